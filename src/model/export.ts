/**
 * `spell export`: weights that leave spell. From a full checkpoint/model folder or an adapter
 * checkpoint (peft folder + its base), write
 *  - `hf`: a plain HF folder (config.json, model.safetensors F32, tokenizer files with the chat
 *    template, generation_config.json) — adapters merged in (W + alpha/r · B·A) — or, for an
 *    adapter without `merge`, the peft adapter folder alone;
 *  - `gguf`: one `model.gguf` (F16 or F32, merged) that llama.cpp loads (gguf-writer.ts).
 * The output is built in a temporary sibling folder and renamed into place, so a half-written
 * export never sits under the final name.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError, ConfigurationError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/atomic.ts';
import type { Qwen3Config } from './config.ts';
import { writeGguf } from './gguf-writer.ts';
import type { GgufDtype } from './gguf-writer.ts';
import { loraMergeInto } from './kernels/lora.ts';
import { loraScale } from './lora.ts';
import { copyTokenizerFiles, loadModelFolder, writeModelFolder } from './model-folder.ts';
import { pointParams } from './params.ts';
import type { ParamTable } from './params.ts';
import {
  ADAPTER_WEIGHTS,
  isPeftAdapter,
  peftAdapterConfig,
  readPeftAdapterConfig,
  readPeftWeightsInto,
} from './peft.ts';
import { Qwen3Model } from './model.ts';

export type ExportFormat = 'hf' | 'gguf';

export interface ExportOptions {
  /** A model folder, full checkpoint, or adapter checkpoint (peft folder). */
  readonly source: string;
  readonly out: string;
  readonly format: ExportFormat;
  /** Merge an adapter into its base (always for gguf). */
  readonly merge: boolean;
  /** The base model folder of an adapter (default: its adapter_config's base_model_name_or_path). */
  readonly base?: string;
  /** GGUF tensor type of the matrices (norms stay F32, as llama.cpp's converter does). */
  readonly ggufDtype?: GgufDtype;
}

/** What an export wrote. */
export interface ExportResult {
  readonly out: string;
  readonly kind: 'hf-merged' | 'hf-full' | 'peft-adapter' | 'gguf';
  readonly files: readonly string[];
}

/** A model ready to write: config, layout, (merged) weights, and where its tokenizer lives. */
export interface ExportWeights {
  readonly config: Qwen3Config;
  readonly table: ParamTable;
  readonly params: Float32Array;
  readonly tokenizerDir: string;
}

/**
 * Read `source` (merging an adapter into its base) into one flat weight buffer.
 * @throws ConfigurationError when an adapter's base folder is missing
 */
export function loadExportWeights(source: string, base?: string): ExportWeights {
  if (!isPeftAdapter(source)) {
    const m = loadModelFolder(source);
    return { config: m.config, table: m.table, params: m.params, tokenizerDir: source };
  }
  const baseDir = adapterBase(source, base);
  const { config: lc } = readPeftAdapterConfig(source);
  const model = loadModelFolder(baseDir);
  model.enableLora(lc);
  const lora = model.lora;
  if (!lora) throw new Error('internal: adapters missing after enableLora');
  readPeftWeightsInto(source, lora.table, lora.params);
  const params = model.params.slice();
  const views = pointParams(model.config, model.table, params);
  const r = lc.rank;
  const s = loraScale(lc);
  for (const e of lora.table.entries) {
    const A = lora.params.subarray(e.offsetA, e.offsetA + r * e.inDim);
    const B = lora.params.subarray(e.offsetB, e.offsetB + e.outDim * r);
    loraMergeInto(views.layers[e.layer][e.field], A, B, e.inDim, e.outDim, r, s);
  }
  return { config: model.config, table: model.table, params, tokenizerDir: baseDir };
}

function adapterBase(source: string, base: string | undefined): string {
  const dir = base ?? readPeftAdapterConfig(source).baseModel;
  if (dir === '' || !existsSync(join(dir, 'config.json'))) {
    throw new ConfigurationError(
      `adapter ${source} names base model "${dir}", which is not a model folder; pass --base DIR`,
    );
  }
  return resolve(dir);
}

/** Write the export (atomically: temporary sibling folder, then rename; replaces `out`). */
export function exportModel(o: ExportOptions): ExportResult {
  const out = resolve(o.out);
  const parent = dirname(out);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(out)}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  try {
    const kind = writeExport(o, tmp);
    if (existsSync(out)) {
      const old = join(parent, `.${basename(out)}.old-${process.pid}-${Date.now()}`);
      renameSync(out, old);
      renameSync(tmp, out);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, out);
    }
    return kind(out);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (err instanceof CheckpointError || err instanceof ConfigurationError) throw err;
    throw new CheckpointError(`could not export to ${out}`, { cause: err });
  }
}

function writeExport(o: ExportOptions, tmp: string): (out: string) => ExportResult {
  const source = resolve(o.source);
  const adapter = isPeftAdapter(source);
  if (o.format === 'hf' && adapter && !o.merge) {
    const baseDir = adapterBase(source, o.base);
    const { config } = readPeftAdapterConfig(source);
    copyFileSync(join(source, ADAPTER_WEIGHTS), join(tmp, ADAPTER_WEIGHTS));
    writeFileAtomic(
      join(tmp, 'adapter_config.json'),
      JSON.stringify(peftAdapterConfig(config, baseDir), null, 2) + '\n',
    );
    copyTokenizerFiles(baseDir, tmp);
    return (out) => ({ out, kind: 'peft-adapter', files: readdirSync(out).sort() });
  }
  const w = loadExportWeights(source, o.base);
  if (o.format === 'gguf') {
    writeGguf(join(tmp, 'model.gguf'), w, o.ggufDtype ?? 'f16', basename(source));
    return (out) => ({ out, kind: 'gguf', files: ['model.gguf'] });
  }
  writeModelFolder(tmp, w.config, w.table, w.params);
  copyTokenizerFiles(w.tokenizerDir, tmp);
  if (!existsSync(join(tmp, 'generation_config.json'))) {
    writeFileAtomic(
      join(tmp, 'generation_config.json'),
      JSON.stringify(generationConfig(w.config), null, 2) + '\n',
    );
  }
  // Every file, tokenizer files included: what was written, not what is always there.
  return (out) => ({
    out,
    kind: adapter ? 'hf-merged' : 'hf-full',
    files: readdirSync(out).sort(),
  });
}

/** A minimal generation_config.json from the model config's special tokens. */
function generationConfig(c: Qwen3Config): Record<string, unknown> {
  return {
    ...(c.bosTokenId !== null ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenIds.length > 0
      ? { eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : [...c.eosTokenIds] }
      : {}),
  };
}

/** A merged model as a Qwen3Model (tests and the round-trip checks). */
export function exportWeightsModel(w: ExportWeights): Qwen3Model {
  return new Qwen3Model(w.config, w.params);
}
