/**
 * `spell model import`: a GGUF file or an HF model folder → an HF-format folder the embedded
 * engine loads fast (config.json, one F32 model.safetensors, tokenizer files, generation_config).
 * GGUF tensors are dequantised to fp32 (the weights spell trains are the dequantised ones); HF
 * folders may be sharded and BF16/F16/F32. The folder appears whole or not at all: everything is
 * written into a sibling temporary folder that is renamed into place at the end.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError, ConfigurationError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/atomic.ts';
import { parseQwen3Config } from './config.ts';
import type { ModelConfig, ModelFamily } from './config.ts';
import { ggufHfConfig, ggufTensorToHf, hfTensorName } from './gguf/model.ts';
import { readGgufHeader } from './gguf/reader.ts';
import type { GgufTensorInfo } from './gguf/reader.ts';
import { ggufTokenizerFiles } from './gguf/tokenizer.ts';
import {
  copyTokenizerFiles,
  loadModelConfig,
  loadWeightsInto,
  writeModelFolder,
} from './model-folder.ts';
import { paramTable } from './params.ts';

/** What an import did. */
export interface ImportResult {
  readonly source: 'gguf' | 'hf';
  readonly family: ModelFamily;
  readonly params: number;
  /** Source tensor count by stored type (GGUF: Q4_1, F32, ...; HF: the safetensors dtypes). */
  readonly tensorTypes: Readonly<Record<string, number>>;
  readonly outDir: string;
}

function isGgufFile(src: string): boolean {
  return statSync(src).isFile();
}

/**
 * Import `src` (a .gguf file or an HF folder) into `outDir`.
 * @throws ConfigurationError when `src` is missing or `outDir` already exists and is not empty;
 *   CheckpointError/ConfigurationError naming the field, tensor or offset for bad inputs
 */
export function importModel(src: string, outDir: string): ImportResult {
  if (!existsSync(src)) {
    throw new ConfigurationError(`model import: source ${src} does not exist`);
  }
  const out = resolve(outDir);
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
    throw new ConfigurationError(
      `model import: --out ${outDir} already exists and is not an empty folder (choose another, or remove it)`,
    );
  }
  mkdirSync(dirname(out), { recursive: true });
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${Date.now()}.partial`);
  mkdirSync(tmp);
  try {
    const result = isGgufFile(src) ? importGguf(src, tmp) : importHfFolder(src, tmp);
    if (existsSync(out)) rmSync(out, { recursive: true });
    renameSync(tmp, out);
    return { ...result, outDir: out };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function importGguf(file: string, dir: string): Omit<ImportResult, 'outDir'> {
  const g = readGgufHeader(file);
  const hfConfig = ggufHfConfig(g);
  // The layer count sizes everything below; each layer has at least 9 tensors in the file.
  const layers = hfConfig.num_hidden_layers;
  if (typeof layers === 'number' && layers * 9 > g.tensors.length) {
    throw new CheckpointError(
      `${file}: metadata "${String(hfConfig.model_type)}.block_count" is ${layers}, but the file holds only ${g.tensors.length} tensors`,
    );
  }
  const config: ModelConfig = parseQwen3Config(hfConfig, `${file} (config from GGUF metadata)`);
  const tokenizer = ggufTokenizerFiles(g);
  const table = paramTable(config);
  // Every tensor is matched to the config by name and shape before anything is allocated or
  // read, so the parameter buffer is no larger than what the file's own tensors describe.
  const tensorTypes: Record<string, number> = {};
  const plan: { t: GgufTensorInfo; offset: number }[] = [];
  const seen = new Set<string>();
  for (const t of g.tensors) {
    tensorTypes[t.type.name] = (tensorTypes[t.type.name] ?? 0) + 1;
    const name = hfTensorName(t.name);
    const entry = name ? table.byName.get(name) : undefined;
    if (!entry) {
      throw new CheckpointError(
        `${file}: tensor "${t.name}"${name ? ` (${name})` : ''} is not part of a ${config.family} model with this config`,
      );
    }
    const shape = [...t.ne].reverse();
    if (JSON.stringify(shape) !== JSON.stringify(entry.shape)) {
      throw new CheckpointError(
        `${file}: tensor "${t.name}" has shape ${JSON.stringify(shape)}, the config needs ${JSON.stringify(entry.shape)}`,
      );
    }
    if (seen.has(entry.name))
      throw new CheckpointError(`${file}: tensor "${t.name}" appears twice`);
    seen.add(entry.name);
    plan.push({ t, offset: entry.offset });
  }
  const missing = table.entries.find((e) => !seen.has(e.name));
  if (missing) throw new CheckpointError(`${file}: no tensor for "${missing.name}"`);
  const params = new Float32Array(table.totalSize);
  for (const { t, offset } of plan) params.set(ggufTensorToHf(g, t, hfConfig).data, offset);
  writeModelFolder(dir, config, table, params);
  const json = (x: unknown): string => JSON.stringify(x, null, 2) + '\n';
  writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.tokenizerJson));
  writeFileAtomic(join(dir, 'tokenizer_config.json'), json(tokenizer.tokenizerConfig));
  writeFileAtomic(join(dir, 'generation_config.json'), json(tokenizer.generationConfig));
  return { source: 'gguf', family: config.family, params: table.totalSize, tensorTypes };
}

function importHfFolder(src: string, dir: string): Omit<ImportResult, 'outDir'> {
  const config = loadModelConfig(src);
  const table = paramTable(config);
  const params = new Float32Array(table.totalSize);
  const tensorTypes = loadWeightsInto(src, table, params);
  writeModelFolder(dir, config, table, params);
  copyTokenizerFiles(src, dir);
  return { source: 'hf', family: config.family, params: table.totalSize, tensorTypes };
}
