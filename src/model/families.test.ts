/**
 * Every family against transformers: tiny random Llama (tied head, llama3 RoPE scaling, BF16
 * file), Qwen2 (q/k/v bias, F16 in four shards) and Qwen3 (q/k norm, F32) were made and saved by
 * transformers (peers/models/make_references.py tiny), which also wrote logits rows and 32 greedy
 * tokens for five prompts (1 to 1,600 tokens). Both sides run fp32 on the same saved weights.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFolder } from './model-folder.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'models');

interface TinyReference {
  readonly family: string;
  readonly prompts: readonly {
    readonly ids: number[];
    readonly rows: Readonly<Record<string, number[]>>;
    readonly greedy: number[];
    readonly greedyMargins: number[];
  }[];
}

// fp32 on both sides, different summation orders and RoPE angles in float64 here vs float32 in
// torch: measured max |Δlogit| 8.2e-6 (Qwen3), 5.7e-6 (Llama), 5.3e-6 (Qwen2); tolerance 1e-4.
const LOGIT_TOLERANCE = 1e-4;

describe.each(['llama', 'qwen2', 'qwen3'])('tiny %s made by transformers', (family) => {
  const dir = join(FIXTURES, `tiny-${family}`);
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as TinyReference;
  const model = loadModelFolder(dir);

  it('loads as its own family', () => {
    expect(model.config.family).toBe(family);
    expect(ref.family).toBe(family);
  });

  it.each(ref.prompts.map((p, i) => ({ i, T: p.ids.length })))(
    'logits rows agree with transformers (prompt $i, $T tokens)',
    ({ i }) => {
      const p = ref.prompts[i];
      const V = model.config.vocabSize;
      const logits = model.logits(p.ids);
      let maxDiff = 0;
      for (const [t, row] of Object.entries(p.rows)) {
        for (let v = 0; v < V; v++) {
          maxDiff = Math.max(maxDiff, Math.abs(logits[Number(t) * V + v] - row[v]));
        }
      }
      expect(maxDiff).toBeLessThan(LOGIT_TOLERANCE);
    },
  );

  it.each(ref.prompts.map((p, i) => ({ i, T: p.ids.length })))(
    'greedy decoding gives transformers’ 32 tokens (prompt $i, $T tokens)',
    ({ i }) => {
      const p = ref.prompts[i];
      const out = model.sample({
        prompt: p.ids,
        numSamples: 1,
        params: { maxTokens: p.greedy.length, temperature: 0, topP: 1, topK: -1, seed: 0 },
      });
      expect(out.sequences[0].tokens).toEqual(p.greedy);
    },
  );
});
