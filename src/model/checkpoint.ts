/**
 * Training checkpoints: a model folder (config.json, model.safetensors, tokenizer files copied
 * from the source model) plus `optimizer.safetensors` (Adam moments, tensor names prefixed
 * `exp_avg.` / `exp_avg_sq.`) and `state.json` (format version, optimizer step, and an opaque
 * adapter state object). Written to a temporary sibling folder and renamed into place, so a crash
 * never leaves a half-written checkpoint under the final name.
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
import type { Qwen3Model } from './model.ts';
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

/**
 * Load weights (and, when present, optimizer state) from `dir` into `model`. A plain model folder
 * without optimizer.safetensors loads with fresh optimizer state.
 * @returns the adapter state saved with the checkpoint ({} for a plain model folder)
 * @throws CheckpointError on a config mismatch, missing tensor, wrong shape or bad state.json
 */
export function loadCheckpoint(dir: string, model: Qwen3Model): Readonly<Record<string, unknown>> {
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
