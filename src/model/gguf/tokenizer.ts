/**
 * The tokenizer a GGUF file carries (`tokenizer.ggml.*`, `tokenizer.chat_template`) written back
 * as HF's tokenizer.json + tokenizer_config.json (+ generation_config.json), so the existing
 * @huggingface/tokenizers + jinja path loads it like any HF folder. Only byte-level BPE
 * (`tokenizer.ggml.model` "gpt2") is supported. The pre-tokenizer follows llama.cpp's
 * `tokenizer.ggml.pre` (its names for the regexes HF tokenizers use); an unknown one is refused
 * by name rather than guessed.
 */
import { CheckpointError } from '../../core/errors.ts';
import { ggufMeta } from './reader.ts';
import type { GgufFile, GgufValue } from './reader.ts';

// Split regexes as the models' own tokenizer.json files spell them.
const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const byteLevel = (useRegex: boolean): Record<string, unknown> => ({
  type: 'ByteLevel',
  add_prefix_space: false,
  trim_offsets: true,
  use_regex: useRegex,
});
const split = (regex: string): Record<string, unknown> => ({
  type: 'Split',
  pattern: { Regex: regex },
  behavior: 'Isolated',
  invert: false,
});

/** Pre-tokenizers by llama.cpp's `tokenizer.ggml.pre`, and whether BPE ignores merges. */
const PRE: Readonly<Record<string, { pre: Record<string, unknown>; ignoreMerges: boolean }>> = {
  // SmolLM: every digit alone, then GPT-2's byte-level regex (its tokenizer.json).
  smollm: {
    pre: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)],
    },
    ignoreMerges: false,
  },
  gpt2: { pre: byteLevel(true), ignoreMerges: false },
  'gpt-2': { pre: byteLevel(true), ignoreMerges: false },
  default: { pre: byteLevel(true), ignoreMerges: false },
  qwen2: {
    pre: { type: 'Sequence', pretokenizers: [split(QWEN2_SPLIT), byteLevel(false)] },
    ignoreMerges: false,
  },
  'llama-bpe': {
    pre: { type: 'Sequence', pretokenizers: [split(LLAMA3_SPLIT), byteLevel(false)] },
    ignoreMerges: true,
  },
};

// llama.cpp token types.
const CONTROL = 3;
const USER_DEFINED = 4;

function stringArray(g: GgufFile, key: string): string[] {
  const v = g.metadata.get(key);
  if (!Array.isArray(v) || !v.every((x: GgufValue) => typeof x === 'string')) {
    throw new CheckpointError(`${g.file}: metadata "${key}" is missing or not a list of strings`);
  }
  return v;
}

function optionalId(g: GgufFile, key: string, n: number): number | undefined {
  const v = g.metadata.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= n) {
    throw new CheckpointError(`${g.file}: metadata "${key}" is ${String(v)}, not a token id`);
  }
  return v;
}

/** The files of an HF tokenizer folder, as JSON objects. */
export interface HfTokenizerFiles {
  readonly tokenizerJson: Record<string, unknown>;
  readonly tokenizerConfig: Record<string, unknown>;
  readonly generationConfig: Record<string, unknown>;
}

/**
 * Build tokenizer.json, tokenizer_config.json and generation_config.json from GGUF metadata.
 * @throws CheckpointError naming the metadata key when the tokenizer is missing or unsupported
 */
export function ggufTokenizerFiles(g: GgufFile): HfTokenizerFiles {
  const model = ggufMeta(g, 'tokenizer.ggml.model', 'string');
  if (model !== 'gpt2') {
    throw new CheckpointError(
      `${g.file}: metadata "tokenizer.ggml.model" is "${model}"; only byte-level BPE ("gpt2") is supported`,
    );
  }
  const preName = g.metadata.get('tokenizer.ggml.pre') ?? 'default';
  const pre = typeof preName === 'string' ? PRE[preName] : undefined;
  if (!pre) {
    throw new CheckpointError(
      `${g.file}: metadata "tokenizer.ggml.pre" is ${JSON.stringify(preName)}; supported: ${Object.keys(PRE).join(', ')}`,
    );
  }
  const tokens = stringArray(g, 'tokenizer.ggml.tokens');
  const merges = stringArray(g, 'tokenizer.ggml.merges');
  const typesRaw = g.metadata.get('tokenizer.ggml.token_type');
  const types = Array.isArray(typesRaw) ? (typesRaw as number[]) : [];
  // fromEntries, not assignment: a token spelled "__proto__" must stay an ordinary key.
  const vocab: Record<string, number> = Object.fromEntries(tokens.map((t, i) => [t, i]));
  const added = tokens
    .map((content, id) => ({ content, id, type: types[id] }))
    .filter((t) => t.type === CONTROL || t.type === USER_DEFINED)
    .map((t) => ({
      id: t.id,
      content: t.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: t.type !== CONTROL,
      special: t.type === CONTROL,
    }));
  const n = tokens.length;
  const bos = optionalId(g, 'tokenizer.ggml.bos_token_id', n);
  const eos = optionalId(g, 'tokenizer.ggml.eos_token_id', n);
  const pad = optionalId(g, 'tokenizer.ggml.padding_token_id', n);
  const unk = optionalId(g, 'tokenizer.ggml.unknown_token_id', n);
  const addBos = g.metadata.get('tokenizer.ggml.add_bos_token') === true && bos !== undefined;
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: pre.pre,
    post_processor: addBos
      ? {
          type: 'TemplateProcessing',
          single: [
            { SpecialToken: { id: tokens[bos], type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
          ],
          pair: [
            { SpecialToken: { id: tokens[bos], type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [tokens[bos]]: { id: tokens[bos], ids: [bos], tokens: [tokens[bos]] } },
        }
      : byteLevel(true),
    decoder: byteLevel(true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: pre.ignoreMerges,
      vocab,
      merges,
    },
  };
  const template = g.metadata.get('tokenizer.chat_template');
  const context = g.metadata.get(
    `${String(g.metadata.get('general.architecture'))}.context_length`,
  );
  const tok = (id: number | undefined): string | null => (id === undefined ? null : tokens[id]);
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    add_bos_token: addBos,
    add_eos_token: false,
    bos_token: tok(bos),
    eos_token: tok(eos),
    pad_token: tok(pad),
    unk_token: tok(unk),
    clean_up_tokenization_spaces: false,
    ...(typeof context === 'number' ? { model_max_length: context } : {}),
    ...(typeof template === 'string' ? { chat_template: template } : {}),
  };
  const generationConfig = {
    ...(bos !== undefined ? { bos_token_id: bos } : {}),
    ...(eos !== undefined ? { eos_token_id: eos } : {}),
    ...(pad !== undefined ? { pad_token_id: pad } : {}),
  };
  return { tokenizerJson, tokenizerConfig, generationConfig };
}
