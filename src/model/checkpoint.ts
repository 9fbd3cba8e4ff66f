/**
 * Training checkpoints: a model folder (config.json, model.safetensors, tokenizer files copied
 * from the source model) plus `optimizer.safetensors` (Adam moments, tensor names prefixed
 * `exp_avg.` / `exp_avg_sq.`) and `state.json` (format version, optimizer step, and an opaque
 * adapter state object). Written to a temporary sibling folder and renamed into place, so a crash
 * never leaves a half-written checkpoint under the final name.
 *
 * A model training LoRA adapters saves an adapter-only checkpoint instead: the peft folder
 * (adapter_config.json + adapter_model.safetensors, see peft.ts) plus the adapters' moments and
 * state.json — a few MB, with the frozen base named by adapter_config's base_model_name_or_path.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/atomic.ts';
import {
  copyTokenizerFiles,
  loadModelConfig,
  loadWeightsInto,
  writeModelFolder,
} from './model-folder.ts';
import type { LoraAdapters, Qwen3Model } from './model.ts';
import { peftNames } from './lora.ts';
import {
  isPeftAdapter,
  readPeftAdapterConfig,
  readPeftWeightsInto,
  writePeftAdapter,
} from './peft.ts';
import { readSafetensorsIndex, readTensorInto, writeSafetensors } from './safetensors.ts';

const FORMAT = 'spell-checkpoint';
const VERSION = 1;

/** What state.json holds. */
export interface CheckpointState {
  readonly format: typeof FORMAT;
  readonly version: number;
  readonly step: number;
  readonly adapter: Readonly<Record<string, unknown>>;
}

/**
 * Save weights + optimizer state atomically to `dir` (replacing an existing checkpoint there).
 * @param tokenizerDir a folder whose tokenizer files are copied along (optional)
 */
export function saveCheckpoint(
  dir: string,
  model: Qwen3Model,
  adapter: Readonly<Record<string, unknown>> = {},
  tokenizerDir?: string,
): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(tmp);
    const lora = model.lora;
    if (lora) {
      writeAdapterCheckpoint(tmp, lora, adapter, tokenizerDir ?? '');
    } else {
      writeFullCheckpoint(tmp, model, adapter, tokenizerDir);
    }
    if (existsSync(dir)) {
      const old = join(parent, `.${basename(dir)}.old-${process.pid}-${Date.now()}`);
      renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, dir);
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`could not write checkpoint ${dir}`, { cause: err });
  }
}

function writeFullCheckpoint(
  tmp: string,
  model: Qwen3Model,
  adapter: Readonly<Record<string, unknown>>,
  tokenizerDir: string | undefined,
): void {
  writeModelFolder(tmp, model.config, model.table, model.params);
  const adam = model.adamState;
  const tensors = [];
  for (const e of model.table.entries) {
    tensors.push({
      name: `exp_avg.${e.name}`,
      shape: e.shape,
      data: adam.m.subarray(e.offset, e.offset + e.size),
    });
    tensors.push({
      name: `exp_avg_sq.${e.name}`,
      shape: e.shape,
      data: adam.v.subarray(e.offset, e.offset + e.size),
    });
  }
  writeSafetensors(join(tmp, 'optimizer.safetensors'), tensors, { step: String(adam.step) });
  const state: CheckpointState = { format: FORMAT, version: VERSION, step: adam.step, adapter };
  writeFileAtomic(join(tmp, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  if (tokenizerDir) copyTokenizerFiles(tokenizerDir, tmp);
}

/** The adapters' moments under their peft names, prefixed like the full optimizer file. */
function adapterMoments(lora: LoraAdapters, m: Float32Array, v: Float32Array) {
  const r = lora.table.config.rank;
  const out = [];
  for (const e of lora.table.entries) {
    const n = peftNames(e);
    for (const [name, off, shape] of [
      [n.A, e.offsetA, [r, e.inDim]],
      [n.B, e.offsetB, [e.outDim, r]],
    ] as const) {
      const size = shape[0] * shape[1];
      out.push({ name: `exp_avg.${name}`, shape, data: m.subarray(off, off + size) });
      out.push({ name: `exp_avg_sq.${name}`, shape, data: v.subarray(off, off + size) });
    }
  }
  return out;
}

function writeAdapterCheckpoint(
  tmp: string,
  lora: LoraAdapters,
  adapter: Readonly<Record<string, unknown>>,
  baseModel: string,
): void {
  writePeftAdapter(tmp, lora.table, lora.params, baseModel);
  writeSafetensors(
    join(tmp, 'optimizer.safetensors'),
    adapterMoments(lora, lora.adam.m, lora.adam.v),
    { step: String(lora.adam.step) },
  );
  const state: CheckpointState = {
    format: FORMAT,
    version: VERSION,
    step: lora.adam.step,
    adapter,
  };
  writeFileAtomic(join(tmp, 'state.json'), JSON.stringify(state, null, 2) + '\n');
}

/**
 * Load an adapter-only checkpoint (or a bare peft adapter folder: fresh optimizer state) into a
 * model training adapters of the same rank, alpha and targets.
 */
function loadAdapterCheckpoint(dir: string, model: Qwen3Model): Readonly<Record<string, unknown>> {
  const lora = model.lora;
  const { config } = readPeftAdapterConfig(dir);
  const mine = lora?.table.config;
  if (
    !lora ||
    !mine ||
    mine.rank !== config.rank ||
    mine.alpha !== config.alpha ||
    mine.targets.join(',') !== config.targets.join(',')
  ) {
    const have = mine
      ? `LoRA rank ${mine.rank}, alpha ${mine.alpha}, targets ${mine.targets.join(',')}`
      : 'full fine-tuning';
    throw new CheckpointError(
      `${join(dir, 'adapter_config.json')} holds LoRA rank ${config.rank}, alpha ${config.alpha}, targets ${config.targets.join(',')}; the engine trains ${have}`,
    );
  }
  const n = lora.table.totalSize;
  const params = new Float32Array(n);
  readPeftWeightsInto(dir, lora.table, params);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  let step = 0;
  let adapter: Readonly<Record<string, unknown>> = {};
  const optFile = join(dir, 'optimizer.safetensors');
  if (existsSync(optFile)) {
    const state = readState(join(dir, 'state.json'));
    const idx = readSafetensorsIndex(optFile);
    for (const t of adapterMoments(lora, m, v)) readTensorInto(idx, t.name, t.shape, t.data);
    step = state.step;
    adapter = state.adapter;
  }
  // Everything read and checked: only now touch the live model.
  lora.params.set(params);
  lora.grads.fill(0);
  model.setLoraAdamState({ m, v, step });
  model.adaptersChanged();
  return adapter;
}

/**
 * Load weights (and, when present, optimizer state) from `dir` into `model`. A plain model folder
 * without optimizer.safetensors loads with fresh optimizer state.
 * @returns the adapter state saved with the checkpoint ({} for a plain model folder)
 * @throws CheckpointError on a config mismatch, missing tensor, wrong shape or bad state.json
 */
export function loadCheckpoint(dir: string, model: Qwen3Model): Readonly<Record<string, unknown>> {
  if (isPeftAdapter(dir)) return loadAdapterCheckpoint(dir, model);
  if (model.lora) {
    throw new CheckpointError(
      `${dir} holds full weights (no adapter_config.json); the engine trains LoRA adapters of rank ${model.lora.table.config.rank}`,
    );
  }
  const config = loadModelConfig(dir);
  const mine = JSON.stringify(model.config);
  if (JSON.stringify(config) !== mine) {
    throw new CheckpointError(
      `${join(dir, 'config.json')} describes a different model than the one loaded (expected ${mine})`,
    );
  }
  const params = new Float32Array(model.table.totalSize);
  loadWeightsInto(dir, model.table, params);
  const optFile = join(dir, 'optimizer.safetensors');
  let adapter: Readonly<Record<string, unknown>> = {};
  let adamState = null;
  if (existsSync(optFile)) {
    const state = readState(join(dir, 'state.json'));
    const idx = readSafetensorsIndex(optFile);
    const m = new Float32Array(model.table.totalSize);
    const v = new Float32Array(model.table.totalSize);
    for (const e of model.table.entries) {
      readTensorInto(idx, `exp_avg.${e.name}`, e.shape, m.subarray(e.offset, e.offset + e.size));
      readTensorInto(idx, `exp_avg_sq.${e.name}`, e.shape, v.subarray(e.offset, e.offset + e.size));
    }
    adamState = { m, v, step: state.step };
    adapter = state.adapter;
  }
  // Everything read and checked: only now touch the live model.
  model.params.set(params);
  if (adamState) model.setAdamState(adamState);
  else
    model.setAdamState({
      m: new Float32Array(model.table.totalSize),
      v: new Float32Array(model.table.totalSize),
      step: 0,
    });
  model.grads.fill(0);
  return adapter;
}

function readState(file: string): CheckpointState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CheckpointError(`${file}: missing or not JSON`, { cause: err });
  }
  const s = raw as Partial<CheckpointState>;
  if (s.format !== FORMAT || s.version !== VERSION) {
    throw new CheckpointError(
      `${file}: format ${JSON.stringify(s.format)} version ${JSON.stringify(s.version)}, expected ${FORMAT} version ${VERSION}`,
    );
  }
  if (typeof s.step !== 'number' || !Number.isInteger(s.step) || s.step < 0) {
    throw new CheckpointError(
      `${file}: step ${JSON.stringify(s.step)} is not a non-negative integer`,
    );
  }
  const adapter = typeof s.adapter === 'object' && s.adapter !== null ? s.adapter : {};
  return { format: FORMAT, version: VERSION, step: s.step, adapter };
}
