/**
 * The RoPE inverse frequencies of a model config, with HF's `rope_scaling` applied
 * (transformers' `_compute_linear_scaling_rope_parameters` / `_compute_llama3_parameters`).
 * Pure; computed once per model.
 */
import type { ModelConfig } from './config.ts';
import { ropeInvFreq } from './kernels/rope.ts';

/** θ^(−2i/HD) for i < HD/2, scaled as the config's `rope_scaling` says. */
export function modelInvFreq(c: ModelConfig): Float64Array {
  const inv = ropeInvFreq(c.ropeTheta, c.headDim);
  const r = c.ropeScaling;
  if (!r) return inv;
  if (r.type === 'linear') return inv.map((f) => f / r.factor);
  // llama3: wavelengths longer than original/lowFreqFactor are slowed by `factor`, shorter than
  // original/highFreqFactor kept, and the band between interpolated smoothly.
  const lowWavelen = r.originalMaxPositions / r.lowFreqFactor;
  const highWavelen = r.originalMaxPositions / r.highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / r.factor;
    const smooth =
      (r.originalMaxPositions / wavelen - r.lowFreqFactor) / (r.highFreqFactor - r.lowFreqFactor);
    return (1 - smooth) * (f / r.factor) + smooth * f;
  });
}
