import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigurationError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { BYTE_ALPHABET, toByteLevel } from './byte-level.ts';
import { trainBpe } from './bpe-train.ts';
import { TokenizerCore } from './hf-libs.ts';
import { renderChat } from './chat.ts';
import { splitPretokens } from './pretokenize.ts';
import { removeDir } from './testkit.ts';
import {
  CHATML_ADDED_TOKENS,
  buildTokenizerConfig,
  buildTokenizerJson,
  writeTokenizerFolder,
} from './tokenizer-files.ts';
import { loadTokenizer } from './tokenizer.ts';

const ADDED = [...CHATML_ADDED_TOKENS];
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'spell-bpe-'));
  dirs.push(d);
  return d;
}

/** A small deterministic corpus with repeated words, numbers, punctuation and some non-Latin text. */
function corpus(seed: number, words: number): string {
  const rng = new Rng(seed);
  const vocab = [
    'the',
    'document',
    'question',
    'answer',
    'verifier',
    'responder',
    'questioner',
    'long',
    'context',
    'table',
    'revenue',
    'increase',
    'percent',
    '2024',
    'Paris',
    'données',
    'Москва',
    '東京',
    'what',
    'which',
    'is',
    'of',
    'and',
    'in',
    "it's",
    "don't",
    '(a)',
    '3.5%',
    '\n',
  ];
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(rng.choice(vocab));
  return out.join(' ');
}

describe('byte-level alphabet', () => {
  test('256 distinct characters in GPT-2 order: "!" first, space is "Ġ", newline is "Ċ"', () => {
    expect(new Set(BYTE_ALPHABET).size).toBe(256);
    expect(BYTE_ALPHABET[0]).toBe('!');
    expect(BYTE_ALPHABET[64]).toBe('a');
    expect(toByteLevel(' \n')).toBe('ĠĊ');
    expect(toByteLevel('é')).toBe('Ã©');
  });
});

describe('trainBpe (hand-worked vectors)', () => {
  test('the most frequent pair merges first and merging stops below minFrequency', () => {
    // chunks: "ab" ×1, " ab" ×2, " abc" ×1 → (a,b)=4, then (Ġ,ab)=3, then (Ġab,c)=1 < 2.
    const m = trainBpe(['ab ab ab abc'], { vocabSize: 300, addedTokens: ADDED });
    expect(m.merges).toEqual([
      ['a', 'b'],
      ['Ġ', 'ab'],
    ]);
    expect(m.tokens.slice(256)).toEqual(['ab', 'Ġab', ...ADDED]);
    expect(m.addedTokenStart).toBe(258);
  });

  test('ties go to the pair whose token strings sort first', () => {
    // every pair occurs once: (x,y) < (y,x) < (Ġ,y) by strings; then (Ġ,yx) is the only pair left.
    const m = trainBpe(['xy yx'], { vocabSize: 300, addedTokens: [], minFrequency: 1 });
    expect(m.merges).toEqual([
      ['x', 'y'],
      ['y', 'x'],
      ['Ġ', 'yx'],
    ]);
  });

  test('vocabSize caps the number of merges; added tokens take the last ids', () => {
    const m = trainBpe([corpus(1, 2000)], { vocabSize: 270, addedTokens: ADDED });
    expect(m.tokens.length).toBe(270);
    expect(m.merges.length).toBe(270 - 256 - ADDED.length);
    expect(m.tokens.slice(-ADDED.length)).toEqual(ADDED);
  });

  test('added-token text in the corpus is never learned as a merge', () => {
    const m = trainBpe(['<|im_end|>'.repeat(50)], { vocabSize: 400, addedTokens: ADDED });
    expect(m.merges).toEqual([]);
  });

  test('a vocab size below 256 + added tokens is a ConfigurationError', () => {
    expect(() => trainBpe(['x'], { vocabSize: 260, addedTokens: ADDED })).toThrow(
      ConfigurationError,
    );
  });
});

describe('trained tokenizer folder', () => {
  const text = corpus(3, 20000);
  const model = trainBpe([text], { vocabSize: 320, addedTokens: ADDED });
  const dir = tempDir();
  writeTokenizerFolder(dir, model);
  const tok = loadTokenizer(dir);

  test('loads through the shared loader with ChatML ids for eos and pad', () => {
    expect(tok.vocabSize).toBe(320);
    expect(tok.eosToken).toBe('<|im_end|>');
    expect(tok.eosTokenId).toBe(317);
    expect(tok.padTokenId).toBe(315);
    expect(tok.tokenToId('<think>')).toBe(318);
    expect(tok.isSpecialId(317)).toBe(true);
    expect(tok.isSpecialId(318)).toBe(false);
  });

  test('encoding with the trained merges compresses the training text', () => {
    const sample = text.slice(0, 5000);
    const ids = tok.encode(sample);
    expect(ids.length).toBeLessThan(Buffer.byteLength(sample) / 2);
    expect(tok.decode(ids)).toBe(sample);
  });

  test('the loader splits text into exactly the chunks the trainer counted', () => {
    const inner = new TokenizerCore(buildTokenizerJson(model), buildTokenizerConfig(model));
    const sample = "Hi  there,\n\n  it's 42.5%!\t東京 🚀 don't\r\nx";
    expect(inner.pre_tokenizer?.pre_tokenize_text(sample)).toEqual(
      splitPretokens(sample).map(toByteLevel),
    );
  });

  test('any UTF-8 string (random code points of every plane) round-trips exactly', () => {
    const rng = new Rng(5);
    const ranges: [number, number][] = [
      [0x00, 0x7f], // ASCII incl. control characters
      [0x80, 0x7ff], // Latin-1 .. Arabic
      [0x300, 0x36f], // combining marks (no normalizer may compose them)
      [0x3040, 0x30ff], // kana
      [0x4e00, 0x9fff], // CJK
      [0xe000, 0xffff], // private use .. specials (surrogates excluded)
      [0x1f300, 0x1faff], // emoji
      [0x10000, 0x10ffff], // any astral code point
    ];
    for (let i = 0; i < 200; i++) {
      let s = '';
      const n = rng.int(40);
      for (let j = 0; j < n; j++) {
        if (rng.next() < 0.05) {
          s += rng.choice(ADDED);
          continue;
        }
        const [lo, hi] = rng.choice(ranges);
        s += String.fromCodePoint(lo + rng.int(hi - lo + 1));
      }
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  test('the ChatML template renders turns, the generation prompt and the thinking switch', () => {
    const msgs = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Q?' },
    ] as const;
    expect(renderChat(tok, msgs, { addGenerationPrompt: true }).text).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n',
    );
    const off = renderChat(tok, msgs, { addGenerationPrompt: true, enableThinking: false });
    expect(off.text.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n')).toBe(true);
    expect(tok.decode(off.ids)).toBe(off.text);
  });

  test('with the ChatML template every generation prompt is a prefix of the next rendering', () => {
    const msgs = [
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: '<think>\nr\n</think>\n\nA1' },
      { role: 'user', content: 'Q2' },
    ] as const;
    for (const enableThinking of [undefined, true, false]) {
      const prompt = renderChat(tok, msgs.slice(0, 1), {
        addGenerationPrompt: true,
        enableThinking,
      });
      const next = renderChat(tok, msgs, { enableThinking });
      if (enableThinking !== false) expect(next.text.startsWith(prompt.text)).toBe(true);
    }
    const promptIds = renderChat(tok, msgs.slice(0, 1), { addGenerationPrompt: true }).ids;
    const nextIds = renderChat(tok, msgs).ids;
    expect(nextIds.slice(0, promptIds.length)).toEqual(promptIds);
  });

  test('an unknown role is rejected by the template', () => {
    expect(() => renderChat(tok, [{ role: 'narrator' as 'user', content: 'x' }])).toThrow(
      /unsupported chat role: narrator/,
    );
  });
});

describe('determinism', () => {
  test('the same input gives byte-identical tokenizer files', () => {
    const text = corpus(9, 5000);
    const a = tempDir();
    const b = tempDir();
    writeTokenizerFolder(a, trainBpe([text], { vocabSize: 500, addedTokens: ADDED }));
    writeTokenizerFolder(b, trainBpe([text], { vocabSize: 500, addedTokens: ADDED }));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      expect(readFileSync(join(a, f))).toEqual(readFileSync(join(b, f)));
    }
  });
});
