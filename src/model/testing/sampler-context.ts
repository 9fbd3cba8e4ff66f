/** The tiny model shape and the in-thread sampler context the sampling tests share. */
import { qwen3Config } from '../config.ts';
import { emptyDecodeScratch } from '../decode.ts';
import { ropeInvFreq } from '../kernels/rope.ts';
import type { Qwen3Model } from '../model.ts';
import type { PrefillCache } from '../prefill-cache.ts';
import type { SamplerContext } from '../sampler.ts';
import { allocWorkspace } from '../workspace.ts';

export const TINY_SAMPLER_CONFIG = qwen3Config({
  hidden_size: 64,
  intermediate_size: 96,
  vocab_size: 97,
  head_dim: 16,
  num_attention_heads: 4,
  num_key_value_heads: 2,
});

/** A sampler context over the model's weights, with a fresh workspace per prefill. */
export function samplerContext(m: Qwen3Model, prefills?: PrefillCache): SamplerContext {
  return {
    config: m.config,
    views: m.views,
    workspaceFor: (T) => allocWorkspace(m.config, T),
    invFreq: ropeInvFreq(m.config.ropeTheta, m.config.headDim),
    scratch: emptyDecodeScratch(),
    ...(prefills ? { prefills } : {}),
  };
}
