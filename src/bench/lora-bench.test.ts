// `spell bench lora` on a tiny model (speed is never asserted): both engine processes start, the
// steps alternate, and the report's memory and parameter figures follow from the layouts.
import { describe, expect, test } from 'vitest';
import { SMOLLM2_135M, runLoraBench } from './lora-bench.ts';

describe('spell bench lora (tiny model)', () => {
  test('reports both modes from their own processes, with consistent state bytes and ratios', async () => {
    const order: string[] = [];
    const r = await runLoraBench({
      modelDir: null,
      hfConfig: {
        ...SMOLLM2_135M,
        hidden_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        head_dim: 16,
        intermediate_size: 64,
        vocab_size: 128,
      },
      tokens: 8,
      steps: 2,
      rank: 4,
      onStep: (mode) => order.push(mode),
    });
    // one warm-up round then ABBA
    expect(order).toEqual(['full', 'lora', 'lora', 'full', 'full', 'lora']);
    expect(r.full.trainableParams).toBe(r.params);
    // rank 4 on 7 projections of one layer: A (4, in) + B (out, 4) each
    const dims = [
      [32, 32],
      [32, 16],
      [32, 16],
      [32, 32],
      [32, 64],
      [32, 64],
      [64, 32],
    ];
    expect(r.adapterParams).toBe(dims.reduce((s, [i, o]) => s + 4 * (i + o), 0));
    expect(r.full.optimizerBytes).toBe(8 * r.params);
    expect(r.lora.optimizerBytes).toBe(8 * r.adapterParams);
    expect(r.ratios.optimizerState).toBeCloseTo(r.params / r.adapterParams, 10);
    for (const m of [r.full, r.lora]) {
      expect(m.stepSecondsAll).toHaveLength(2);
      expect(m.tokensPerSec).toBeGreaterThan(0);
      expect(m.peakRssMb).toBeGreaterThan(0);
      expect(Number.isFinite(m.lossLast)).toBe(true);
    }
    // both start from the same weights and tokens: LoRA's B = 0 makes its first loss the base's
    expect(r.lora.lossFirst).toBe(r.full.lossFirst);
    expect(r.lora.mergeSeconds).not.toBeNull();
    expect(r.full.mergeSeconds).toBeNull();
  }, 120_000);
});
