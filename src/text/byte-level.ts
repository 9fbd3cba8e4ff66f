/**
 * GPT-2's byte-level alphabet: every byte 0..255 gets one printable unicode character, so a BPE
 * vocabulary over these characters can spell any UTF-8 string and never needs an unknown token.
 * Printable Latin-1 bytes map to themselves; the other 68 bytes map to U+0100 onwards (space → 'Ġ').
 */

/** BYTE_CHARS[b] is the character standing for byte b. */
export const BYTE_CHARS: readonly string[] = buildByteChars();

/**
 * The 256 byte characters in GPT-2's vocabulary order (printable bytes first, then the rest),
 * which is also the id order of the first 256 tokens in GPT-2 and Qwen vocabularies.
 */
export const BYTE_ALPHABET: readonly string[] = buildAlphabet();

function printableBytes(): number[] {
  const bytes: number[] = [];
  const ranges: [number, number][] = [
    [0x21, 0x7e], // '!'..'~'
    [0xa1, 0xac], // '¡'..'¬'
    [0xae, 0xff], // '®'..'ÿ'
  ];
  for (const [lo, hi] of ranges) for (let b = lo; b <= hi; b++) bytes.push(b);
  return bytes;
}

function buildByteChars(): string[] {
  const chars = new Array<string>(256);
  const printable = new Set(printableBytes());
  let next = 0;
  for (let b = 0; b < 256; b++) {
    chars[b] = String.fromCharCode(printable.has(b) ? b : 256 + next++);
  }
  return chars;
}

function buildAlphabet(): string[] {
  const order = printableBytes();
  const seen = new Set(order);
  for (let b = 0; b < 256; b++) if (!seen.has(b)) order.push(b);
  return order.map((b) => BYTE_CHARS[b]);
}

/** The byte-level spelling of a string: its UTF-8 bytes, one alphabet character per byte. */
export function toByteLevel(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += BYTE_CHARS[b];
  return out;
}
