import { expect, test } from 'vitest';
import { qwen3Config } from '../model/config.ts';
import { Qwen3Model } from '../model/model.ts';
import { QUICK_SIZES, modelPhases, runModelSpeed } from './model-speed.ts';

// Structure only: speed is never asserted in tests (the figures come from `spell bench model`).
test('the model bench runs every phase and reports the group-sharing ratio', async () => {
  const config = qwen3Config({
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 4,
    intermediate_size: 32,
    vocab_size: 64,
    max_position_embeddings: 256,
  });
  const model = Qwen3Model.random(config, 3);
  const phases = modelPhases(model, QUICK_SIZES);
  expect(phases.map((p) => p.name)).toEqual([
    'prefill_64',
    'decode_b1_ctx64',
    'decode_b4_ctx64',
    'train_64',
    'group_sample_shared_p96_g2x8',
    'group_sample_unshared_p96_g2x8',
    'group_train_shared_p96_g2x8',
    'group_train_unshared_p96_g2x8',
  ]);
  const lines: string[] = [];
  const report = await runModelSpeed(model, 'mem', phases, [], {}, 1, (l) => lines.push(l));
  expect(lines).toHaveLength(phases.length);
  for (const p of phases) expect(report.phases[p.name].tokensPerSec.spell).toBeGreaterThan(0);
  expect(Object.keys(report.ratios)).toEqual([
    'group_sample_shared_p96_g2x8_vs_unshared_spell',
    'group_train_shared_p96_g2x8_vs_unshared_spell',
  ]);
});
