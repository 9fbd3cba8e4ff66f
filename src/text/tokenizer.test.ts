import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DataError } from '../core/errors.ts';
import { loadTokenizer, type HfTokenizer } from './tokenizer.ts';
import { makeQwen3TokenizerDir, removeDir } from './testkit.ts';

// Ids cross-checked against a second, independent implementation (@lenml/tokenizers) and, per
// docs/ecosystem.md, identical to HF's Rust tokenizer. A tokenizer upgrade that drifts fails here.
const MULTILINGUAL =
  'Long-context QA: Ünïcödé naïve café, 東京は日本の首都です。 Привет, мир! مرحبا بالعالم 🚀🌍 x²+y³=42.5\n\tTabs  and   spaces';
const MULTILINGUAL_IDS = [
  6583, 63633, 65908, 25, 30512, 77, 37572, 66, 2956, 128505, 94880, 586, 51950, 11, 60596, 109,
  46553, 15322, 131888, 106114, 37541, 1773, 79484, 26991, 8178, 11, 137144, 0, 23364, 126860,
  124671, 124476, 129634, 11162, 248, 222, 145691, 856, 29456, 43010, 43201, 28, 19, 17, 13, 20,
  198, 10261, 3435, 220, 323, 256, 12621,
];

let dir: string;
let tok: HfTokenizer;
const scratch: string[] = [];

beforeAll(() => {
  dir = makeQwen3TokenizerDir();
  tok = loadTokenizer(dir);
});
afterAll(() => {
  removeDir(dir);
  for (const d of scratch) removeDir(d);
});

function scratchDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'spell-tok-bad-'));
  scratch.push(d);
  return d;
}

describe('Qwen3 tokenizer folder', () => {
  test('a fixed multilingual string encodes to the golden ids and decodes back', () => {
    expect(tok.encode(MULTILINGUAL)).toEqual(MULTILINGUAL_IDS);
    expect(tok.decode(MULTILINGUAL_IDS)).toBe(MULTILINGUAL);
  });

  test('special tokens, eos and pad ids come from tokenizer_config.json', () => {
    expect(tok.eosToken).toBe('<|im_end|>');
    expect(tok.eosTokenId).toBe(151645);
    expect(tok.padToken).toBe('<|endoftext|>');
    expect(tok.padTokenId).toBe(151643);
    expect(tok.bosTokenId).toBeUndefined();
    expect(tok.tokenToId('<|im_start|>')).toBe(151644);
    expect(tok.tokenToId('<think>')).toBe(151667);
    expect(tok.tokenToId('no-such-token-xyz')).toBeUndefined();
    expect(tok.vocabSize).toBe(151669);
    expect(tok.isSpecialId(151645)).toBe(true);
    expect(tok.isSpecialId(151667)).toBe(false); // <think> is added but not special in Qwen3
  });

  test('special-token text in the input becomes one special id; skipSpecialTokens drops it', () => {
    const ids = tok.encode('a<|im_end|>b');
    expect(ids).toEqual([64, 151645, 65]);
    expect(tok.decode(ids)).toBe('a<|im_end|>b');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('ab');
  });

  test('Qwen3 adds no special tokens on encode, with or without addSpecialTokens', () => {
    expect(tok.encode('hi', { addSpecialTokens: true })).toEqual(
      tok.encode('hi', { addSpecialTokens: false }),
    );
  });

  test('ids past the tokenizer (padded embedding rows) decode to nothing; negative ids throw', () => {
    expect(tok.decode([64, 151700, 65])).toBe('ab');
    expect(() => tok.decode([-1])).toThrow(DataError);
  });

  test('loading the same folder twice returns the cached tokenizer', () => {
    expect(loadTokenizer(dir)).toBe(tok);
  });
});

describe('bad tokenizer folders', () => {
  test('a missing folder is named in the error', () => {
    expect(() => loadTokenizer('/nonexistent/spell-tok')).toThrow(/\/nonexistent\/spell-tok/);
  });

  test('a missing tokenizer_config.json is named in the error', () => {
    const d = scratchDir();
    copyFileSync(join(dir, 'tokenizer.json'), join(d, 'tokenizer.json'));
    expect(() => loadTokenizer(d)).toThrow(/tokenizer_config\.json/);
  });

  test('a truncated tokenizer.json is a DataError naming the file', () => {
    const d = scratchDir();
    writeFileSync(join(d, 'tokenizer.json'), '{"model": {"type": "BPE", "vocab": {');
    copyFileSync(join(dir, 'tokenizer_config.json'), join(d, 'tokenizer_config.json'));
    let caught: unknown;
    try {
      loadTokenizer(d);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DataError);
    expect((caught as DataError).location.file).toBe(join(d, 'tokenizer.json'));
  });

  test('a tokenizer.json without a model is rejected with the field named', () => {
    const d = scratchDir();
    writeFileSync(join(d, 'tokenizer.json'), '{"added_tokens": []}');
    writeFileSync(join(d, 'tokenizer_config.json'), '{}');
    expect(() => loadTokenizer(d)).toThrow(/"model"/);
  });

  test('an eos_token that is not in the vocabulary is rejected', () => {
    const d = scratchDir();
    copyFileSync(join(dir, 'tokenizer.json'), join(d, 'tokenizer.json'));
    writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|nope|>' }));
    expect(() => loadTokenizer(d)).toThrow(/<\|nope\|>/);
  });
});
