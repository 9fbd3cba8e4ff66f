/**
 * Turns a trained byte-level BPE model into an HF tokenizer folder: `tokenizer.json` (BPE model,
 * Qwen-style Split + ByteLevel pre-tokenizer, ByteLevel decoder, added tokens) and
 * `tokenizer_config.json` (our own ChatML chat template, eos `<|im_end|>`, pad `<|endoftext|>`).
 * The files have the same shape as Qwen3's, so `loadTokenizer` reads both the same way.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';
import type { BpeModel } from './bpe-train.ts';
import { PRETOKENIZE_PATTERN } from './pretokenize.ts';

/** The added tokens of every tokenizer we train, in id order. */
export const CHATML_ADDED_TOKENS = [
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<think>',
  '</think>',
] as const;

/**
 * Added tokens that are *special* (dropped by skipSpecialTokens). As in Qwen3, `<think>` and
 * `</think>` are added (never split) but not special, so decoded answers keep their reasoning tags.
 */
const SPECIAL = new Set(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);

/**
 * Our ChatML template: every turn is `<|im_start|>role\n` + content + `<|im_end|>\n`, history is
 * kept verbatim (so a generation prompt is always a prefix of the next rendering), the
 * generation prompt is `<|im_start|>assistant\n`, and `enable_thinking=false` pre-fills an empty
 * think block, as Qwen3 does.
 */
export const CHATML_TEMPLATE = [
  '{%- for message in messages %}',
  "    {%- if message.role not in ['system', 'user', 'assistant', 'tool'] %}",
  "        {{- raise_exception('unsupported chat role: ' + message.role) }}",
  '    {%- endif %}',
  "    {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}",
  '{%- endfor %}',
  '{%- if add_generation_prompt %}',
  "    {{- '<|im_start|>assistant\\n' }}",
  '    {%- if enable_thinking is defined and enable_thinking is false %}',
  "        {{- '<think>\\n\\n</think>\\n\\n' }}",
  '    {%- endif %}',
  '{%- endif %}',
].join('\n');

const BYTE_LEVEL = { add_prefix_space: false, trim_offsets: false, use_regex: false };

function addedTokenEntries(model: BpeModel): Record<string, unknown>[] {
  return model.tokens.slice(model.addedTokenStart).map((content, i) => ({
    id: model.addedTokenStart + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: SPECIAL.has(content),
  }));
}

/** The tokenizer.json object. No normalizer: any UTF-8 text must round-trip byte for byte. */
export function buildTokenizerJson(model: BpeModel): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  for (let id = 0; id < model.addedTokenStart; id++) vocab[model.tokens[id]] = id;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokenEntries(model),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: PRETOKENIZE_PATTERN },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', ...BYTE_LEVEL },
      ],
    },
    post_processor: { type: 'ByteLevel', ...BYTE_LEVEL },
    decoder: { type: 'ByteLevel', ...BYTE_LEVEL },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: model.merges.map(([a, b]) => [a, b]),
    },
  };
}

/** The tokenizer_config.json object (Qwen2Tokenizer-compatible keys). */
export function buildTokenizerConfig(model: BpeModel, maxLength = 32768): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const entry of addedTokenEntries(model)) {
    const { id, ...rest } = entry;
    decoder[String(id)] = rest;
  }
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    chat_template: CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: maxLength,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
}

/**
 * Write tokenizer.json and tokenizer_config.json into `dir` (atomically, creating it).
 * Output bytes depend only on the model, so equal training runs give identical files.
 */
export function writeTokenizerFolder(dir: string, model: BpeModel, maxLength?: number): void {
  writeFileAtomic(join(dir, 'tokenizer.json'), `${JSON.stringify(buildTokenizerJson(model))}\n`);
  writeFileAtomic(
    join(dir, 'tokenizer_config.json'),
    `${JSON.stringify(buildTokenizerConfig(model, maxLength), null, 2)}\n`,
  );
}
