/**
 * The pre-tokenizer our trained tokenizers use: Qwen2/Qwen3's split pattern (contractions, a
 * letter run with one optional leading non-letter, single digits, punctuation runs, newlines,
 * whitespace). Qwen writes the contractions with an inline `(?i:...)` group, which JavaScript
 * regexes lack; we spell the cases out so the same pattern means the same thing to JS, Rust and
 * Python regex engines. BPE merges never cross a chunk boundary.
 */

/** The regex source written into tokenizer.json (a `Split` pre-tokenizer, behaviour Isolated). */
export const PRETOKENIZE_PATTERN =
  "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])" +
  '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+' +
  '|\\p{N}' +
  '| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*' +
  '|\\s*[\\r\\n]+' +
  '|\\s+(?!\\S)' +
  '|\\s+';

const PATTERN = new RegExp(PRETOKENIZE_PATTERN, 'gu');

/**
 * Split text into pre-tokenizer chunks (matches, and any text between matches, in order), so
 * that the chunks concatenate back to `text`.
 */
export function splitPretokens(text: string): string[] {
  const chunks: string[] = [];
  let last = 0;
  for (const m of text.matchAll(PATTERN)) {
    if (m.index > last) chunks.push(text.slice(last, m.index));
    if (m[0].length > 0) chunks.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) chunks.push(text.slice(last));
  return chunks;
}
