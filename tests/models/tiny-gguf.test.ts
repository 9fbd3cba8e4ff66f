/**
 * A tiny Llama GGUF end to end, against transformers reading the same file: `spell model import`
 * (the CLI) of tests/fixtures/gguf/tiny-llama.gguf — weights in Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and
 * F16, q/k rows permuted as llama.cpp's converter does, the bundled model's BPE tokenizer and chat
 * template in `tokenizer.ggml.*` — then the tokenizer, the chat template, next-token logits and 16
 * greedy tokens against tests/fixtures/gguf/tiny-llama.json (peers/models/make_tiny_gguf.py:
 * transformers' `from_pretrained(gguf_file=...)` dequantises and un-permutes on its own), and
 * `spell serve` on the imported folder answering a greedy chat completion with those tokens.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolder } from '../../src/model/model-folder.ts';
import type { Qwen3Model } from '../../src/model/model.ts';
import { renderChat } from '../../src/text/chat.ts';
import type { ChatMessage } from '../../src/text/chat.ts';
import { loadTokenizer } from '../../src/text/tokenizer.ts';
import type { HfTokenizer } from '../../src/text/tokenizer.ts';
import { startServeProcess } from '../engine/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const GGUF = join(ROOT, 'tests', 'fixtures', 'gguf', 'tiny-llama.gguf');
// fp32 on both sides on the same dequantised weights: measured max |Δlogit| 6.3e-6.
const LOGIT_TOLERANCE = 1e-4;

interface Summary {
  readonly topIds: number[];
  readonly topValues: number[];
  readonly probeValues: number[];
  readonly logSumExp: number;
}
interface Reference {
  readonly texts: string[];
  readonly chat: ChatMessage[];
  readonly probeIds: number[];
  readonly prompts: readonly { ids: number[]; last: Summary; greedy: number[] }[];
}
const ref = JSON.parse(
  readFileSync(join(ROOT, 'tests', 'fixtures', 'gguf', 'tiny-llama.json'), 'utf8'),
) as Reference;

describe('tiny Llama GGUF: import, tokenizer, logits, greedy decoding and serve vs transformers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spell-tiny-gguf-'));
  const out = join(dir, 'model');
  let model: Qwen3Model;
  let tok: HfTokenizer;
  let importOut = '';

  beforeAll(() => {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'spell.js'), 'model', 'import', GGUF, '--out', out],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    importOut = r.stdout;
    model = loadModelFolder(out);
    tok = loadTokenizer(out);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports an untied Llama from six quantisation types', () => {
    expect(importOut).toMatch(/llama/);
    expect(model.config).toMatchObject({
      family: 'llama',
      numLayers: 2,
      hiddenSize: 32,
      numHeads: 4,
      numKvHeads: 2,
      vocabSize: 2000,
      tieWordEmbeddings: false,
    });
    expect(tok.eosToken).toBe('<|im_end|>');
  });

  it('tokenizes as the tokenizer.json the GGUF was made from, and renders its chat template', () => {
    ref.texts.forEach((text, i) => {
      expect(tok.encode(text, { addSpecialTokens: false })).toEqual(ref.prompts[i].ids);
    });
    const chat = ref.prompts[ref.texts.length];
    expect(renderChat(tok, ref.chat, { addGenerationPrompt: true }).ids).toEqual(chat.ids);
  });

  it.each(ref.prompts.map((p, i) => ({ i, T: p.ids.length })))(
    'next-token logits and 16 greedy tokens equal transformers’ (prompt $i, $T tokens)',
    ({ i }) => {
      const p = ref.prompts[i];
      const V = model.config.vocabSize;
      const row = model.logitRows(p.ids, [p.ids.length - 1]).subarray(0, V);
      let maxDiff = 0;
      p.last.topIds.forEach((id, k) => {
        maxDiff = Math.max(maxDiff, Math.abs(row[id] - p.last.topValues[k]));
      });
      ref.probeIds.forEach((id, k) => {
        maxDiff = Math.max(maxDiff, Math.abs(row[id] - p.last.probeValues[k]));
      });
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let sum = 0;
      for (const x of row) sum += Math.exp(x - max);
      maxDiff = Math.max(maxDiff, Math.abs(max + Math.log(sum) - p.last.logSumExp));
      expect(row.indexOf(max)).toBe(p.last.topIds[0]);
      expect(maxDiff).toBeLessThan(LOGIT_TOLERANCE);
      const out = model.sample({
        prompt: p.ids,
        numSamples: 1,
        params: { maxTokens: p.greedy.length, temperature: 0, topP: 1, topK: -1, seed: 0 },
      });
      expect(out.sequences[0].tokens).toEqual(p.greedy);
    },
  );

  it('spell serve on the imported folder answers a greedy chat completion with those tokens', async () => {
    const serve = await startServeProcess([out]);
    try {
      const res = await fetch(`${serve.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'model',
          messages: ref.chat,
          temperature: 0,
          max_tokens: 16,
        }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      // transformers generated 16 tokens without stopping; serve stops at an end-of-turn token.
      const greedy = ref.prompts[ref.texts.length].greedy;
      const stops = new Set(tok.endOfTurnIds());
      const end = greedy.findIndex((t) => stops.has(t));
      const expected = tok.decode(end < 0 ? greedy : greedy.slice(0, end), {
        skipSpecialTokens: true,
      });
      expect(body.choices[0].message.content).toBe(expected);
    } finally {
      await serve.stop();
    }
  }, 60_000);
});
