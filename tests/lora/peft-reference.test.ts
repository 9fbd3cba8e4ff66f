/**
 * One LoRA step in spell against the same step in peft + torch (reference values committed by
 * peers/lora/make_reference.py in tests/fixtures/lora-ref/): a tiny transformers Llama, peft's
 * adapter folder loaded through spell's peft reader, cross_entropy and importance_sampling losses
 * on fixed tokens. Tolerance: loss within 1e-4 relative; every adapter gradient within
 * 1e-4·max|g| + 1e-3 relative (spell runs float32, the reference float32 with float64 log-softmax).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Datum, LossName } from '../../src/engine/types.ts';
import { loadCheckpoint } from '../../src/model/checkpoint.ts';
import { peftNames } from '../../src/model/lora.ts';
import { loadModelFolder } from '../../src/model/model-folder.ts';
import { readPeftAdapterConfig } from '../../src/model/peft.ts';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'lora-ref');

interface Reference {
  tokens: number[];
  weights: number[];
  sampling_logprobs: number[];
  advantages: number[];
  losses: Record<string, { loss: number; logprobs?: number[]; grads: Record<string, number[]> }>;
}

const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as Reference;

function datum(): Datum {
  return {
    modelInput: ref.tokens.slice(0, -1),
    targetTokens: ref.tokens.slice(1),
    weights: ref.weights,
    logprobs: ref.sampling_logprobs,
    advantages: ref.advantages,
  };
}

describe('LoRA step against peft + torch', () => {
  it.each(['cross_entropy', 'importance_sampling'] as LossName[])(
    '%s: loss and every adapter gradient match',
    (loss) => {
      const model = loadModelFolder(join(DIR, 'base'));
      expect(model.config.family).toBe('llama');
      model.enableLora(readPeftAdapterConfig(join(DIR, 'adapter')).config);
      loadCheckpoint(join(DIR, 'adapter'), model);
      const r = model.forwardBackward([datum()], loss);
      const want = ref.losses[loss];
      expect(Math.abs(r.loss - want.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(want.loss) + 1e-5);
      if (want.logprobs) {
        r.logprobs[0].forEach((lp, i) => expect(lp).toBeCloseTo(want.logprobs?.[i] ?? NaN, 4));
      }
      const lora = model.lora;
      if (!lora) throw new Error('no adapters');
      const r4 = lora.table.config.rank;
      let checked = 0;
      for (const e of lora.table.entries) {
        const n = peftNames(e);
        for (const [name, off, size] of [
          [n.A, e.offsetA, r4 * e.inDim],
          [n.B, e.offsetB, e.outDim * r4],
        ] as const) {
          const g = ref.losses[loss].grads[name];
          expect(g, name).toBeDefined();
          const mine = lora.grads.subarray(off, off + size);
          const scale = Math.max(...g.map(Math.abs));
          for (let i = 0; i < size; i++) {
            expect(Math.abs(mine[i] - g[i]), `${name}[${i}]`).toBeLessThanOrEqual(
              1e-4 * scale + 1e-3 * Math.abs(g[i]),
            );
          }
          checked++;
        }
      }
      expect(checked).toBe(Object.keys(want.grads).length);
    },
  );
});
