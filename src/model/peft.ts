/**
 * LoRA adapters in the layout the `peft` library reads and writes: `adapter_config.json`
 * (peft_type LORA, r, lora_alpha, target_modules, …) and `adapter_model.safetensors` with keys
 * `base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight` (r, in) and `…lora_B.weight`
 * (out, r). Both files are written atomically; reading checks every name and shape.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/atomic.ts';
import { LORA_TARGETS, loraConfig, peftNames } from './lora.ts';
import type { LoraConfig, LoraTable } from './lora.ts';
import { readSafetensorsIndex, readTensorInto, writeSafetensors } from './safetensors.ts';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** Whether `dir` holds a peft adapter. */
export function isPeftAdapter(dir: string): boolean {
  return existsSync(join(dir, ADAPTER_CONFIG));
}

/** adapter_config.json's content for `c` (peft's field names; dropout 0, no bias). */
export function peftAdapterConfig(c: LoraConfig, baseModel: string): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: c.rank,
    lora_alpha: c.alpha,
    lora_dropout: 0,
    target_modules: [...c.targets],
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    use_rslora: false,
    use_dora: false,
    modules_to_save: null,
    layers_to_transform: null,
  };
}

/** Write adapter_config.json + adapter_model.safetensors (F32) into the existing folder `dir`. */
export function writePeftAdapter(
  dir: string,
  t: LoraTable,
  params: Float32Array,
  baseModel: string,
): void {
  const r = t.config.rank;
  const tensors = [];
  for (const e of t.entries) {
    const n = peftNames(e);
    tensors.push({
      name: n.A,
      shape: [r, e.inDim],
      data: params.subarray(e.offsetA, e.offsetA + r * e.inDim),
    });
    tensors.push({
      name: n.B,
      shape: [e.outDim, r],
      data: params.subarray(e.offsetB, e.offsetB + e.outDim * r),
    });
  }
  writeSafetensors(join(dir, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
  writeFileAtomic(
    join(dir, ADAPTER_CONFIG),
    JSON.stringify(peftAdapterConfig(t.config, baseModel), null, 2) + '\n',
  );
}

/** What adapter_config.json says, as a LoraConfig plus the base model it names. */
export interface PeftAdapterInfo {
  readonly config: LoraConfig;
  readonly baseModel: string;
}

/**
 * Read and check `<dir>/adapter_config.json`: LoRA, no dropout, no bias, targets spell supports.
 * @throws CheckpointError naming the file and field
 */
export function readPeftAdapterConfig(dir: string): PeftAdapterInfo {
  const file = join(dir, ADAPTER_CONFIG);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new CheckpointError(`${file}: missing or not JSON`, { cause: err });
  }
  const bad = (field: string, want: string): never => {
    throw new CheckpointError(
      `${file}: ${field} = ${JSON.stringify(raw[field])}, expected ${want}`,
    );
  };
  if (raw.peft_type !== 'LORA') bad('peft_type', '"LORA"');
  if (typeof raw.r !== 'number' || !Number.isInteger(raw.r) || raw.r < 1)
    bad('r', 'an integer ≥ 1');
  if (typeof raw.lora_alpha !== 'number' || !(raw.lora_alpha > 0))
    bad('lora_alpha', 'a number > 0');
  if (raw.lora_dropout !== undefined && raw.lora_dropout !== 0) bad('lora_dropout', '0');
  if (raw.bias !== undefined && raw.bias !== 'none') bad('bias', '"none"');
  if (raw.use_dora === true) bad('use_dora', 'false');
  if (raw.use_rslora === true) bad('use_rslora', 'false');
  for (const f of ['rank_pattern', 'alpha_pattern']) {
    const v = raw[f];
    if (v != null && (typeof v !== 'object' || Object.keys(v).length > 0))
      bad(f, '{} (one rank and alpha for every module)');
  }
  if (raw.layers_to_transform != null) bad('layers_to_transform', 'null (every layer)');
  const tm = raw.target_modules;
  const targets = typeof tm === 'string' ? [tm] : tm;
  if (
    !Array.isArray(targets) ||
    targets.some((t) => !(LORA_TARGETS as readonly unknown[]).includes(t))
  ) {
    bad('target_modules', `a list of ${LORA_TARGETS.join(', ')}`);
  }
  return {
    config: loraConfig({
      rank: raw.r as number,
      alpha: raw.lora_alpha as number,
      targets: targets as string[],
    }),
    baseModel: typeof raw.base_model_name_or_path === 'string' ? raw.base_model_name_or_path : '',
  };
}

/**
 * Read adapter_model.safetensors of `dir` into `out` (laid out by `t`).
 * @throws CheckpointError on a missing tensor or wrong shape
 */
export function readPeftWeightsInto(dir: string, t: LoraTable, out: Float32Array): void {
  const idx = readSafetensorsIndex(join(dir, ADAPTER_WEIGHTS));
  const r = t.config.rank;
  for (const e of t.entries) {
    const n = peftNames(e);
    readTensorInto(idx, n.A, [r, e.inDim], out.subarray(e.offsetA, e.offsetA + r * e.inDim));
    readTensorInto(idx, n.B, [e.outDim, r], out.subarray(e.offsetB, e.offsetB + e.outDim * r));
  }
}
