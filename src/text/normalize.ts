/**
 * Text normalisation shared by scoring: Python-compatible string helpers (whitespace set, strip,
 * split, round) and the SQuAD-style answer normalisation with the QA metrics built on it (token F1,
 * exact match, strict/loose cover-EM, half-EM).
 *
 * The reference scorers are Python; these helpers reproduce Python's semantics where JavaScript's
 * built-ins differ (`str.strip` and `str.split` whitespace, `\b` word boundaries, `round`), so the
 * same response gets the same score in both. Pure and synchronous; no I/O.
 */

/**
 * Python `str.isspace()` characters, used by `strip()`/`split()` (JS `\s` lacks U+001C..U+001F and
 * U+0085, and adds U+FEFF).
 */
export const PY_WHITESPACE =
  '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006' +
  '\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
const PY_WS_RUN = new RegExp(
  `[${Array.from(PY_WHITESPACE, (c) => `\\u{${c.codePointAt(0)?.toString(16)}}`).join('')}]+`,
  'gu',
);

/** True when `ch` (one code point) is whitespace for Python's `str.isspace()`. */
export function isPyWhitespace(ch: string): boolean {
  return ch.length === 1 && PY_WHITESPACE.includes(ch);
}

/**
 * Python `s.strip(chars)`: remove any of `chars` from both ends; with no `chars`, Python whitespace.
 * @example pyStrip('  x. ') === 'x.'; pyStrip('..x..', '.') === 'x'
 */
export function pyStrip(s: string, chars?: string): string {
  return pyRstrip(pyLstrip(s, chars), chars);
}

/** Python `s.lstrip(chars)` (whitespace when `chars` is omitted). */
export function pyLstrip(s: string, chars?: string): string {
  if (hasAstral(chars)) {
    const cps = Array.from(s);
    let i = 0;
    while (i < cps.length && stripsChar(cps[i], chars)) i++;
    return cps.slice(i).join('');
  }
  // Every strip character is one UTF-16 unit, so scanning units is exact (a surrogate never matches).
  let i = 0;
  while (i < s.length && stripsChar(s[i], chars)) i++;
  return s.slice(i);
}

/** Python `s.rstrip(chars)` (whitespace when `chars` is omitted). */
export function pyRstrip(s: string, chars?: string): string {
  if (hasAstral(chars)) {
    const cps = Array.from(s);
    let j = cps.length;
    while (j > 0 && stripsChar(cps[j - 1], chars)) j--;
    return cps.slice(0, j).join('');
  }
  let j = s.length;
  while (j > 0 && stripsChar(s[j - 1], chars)) j--;
  return s.slice(0, j);
}

function hasAstral(chars: string | undefined): boolean {
  return chars !== undefined && /[\uD800-\uDFFF]/.test(chars);
}

function stripsChar(ch: string, chars: string | undefined): boolean {
  return chars === undefined ? isPyWhitespace(ch) : chars.includes(ch);
}

/** Python `s.split()` with no separator: split on whitespace runs, no empty pieces. */
export function pySplitWhitespace(s: string): string[] {
  return s.split(PY_WS_RUN).filter((t) => t.length > 0);
}

/** Python `s[-n:]`: the last `n` code points (never splits a surrogate pair). */
export function lastCodePoints(s: string, n: number): string {
  // Fast path: no astral characters means UTF-16 units are code points.
  if (!/[\uD800-\uDFFF]/.test(s)) return s.slice(Math.max(0, s.length - n));
  const cps = Array.from(s);
  return cps.slice(Math.max(0, cps.length - n)).join('');
}

/**
 * Python's `round(x, digits)`: round the exact binary value half-to-even. `Math.round(x*100)/100`
 * differs (0.125 → 0.13 there, 0.12 in Python; 1.005 → 1.01 there, 1.0 in Python).
 */
export function pyRound(x: number, digits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const neg = x < 0;
  // toFixed(100) is the exact decimal expansion for |x| >= 2^-46 or so (at most 100 fraction
  // digits); smaller values round to 0 at any sensible `digits` anyway.
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const intPart = exact.slice(0, dot);
  const frac = exact.slice(dot + 1);
  const kept = intPart + frac.slice(0, digits);
  const rest = frac.slice(digits);
  let n = BigInt(kept);
  const first = rest.charCodeAt(0) - 48;
  const tailNonZero = /[1-9]/.test(rest.slice(1));
  if (first > 5 || (first === 5 && (tailNonZero || n % 2n === 1n))) n += 1n;
  const v = Number(n) / 10 ** digits;
  return neg ? -v : v;
}

/** Python `string.punctuation`: the 32 ASCII punctuation characters. */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// Python's `\b` is Unicode-aware (word chars = letters, numbers, underscore); JS `\b` is ASCII only.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * SQuAD answer normalisation: lowercase, delete ASCII punctuation, replace the whole words
 * a/an/the with a space, collapse whitespace.
 * @example normalizeAnswer('The Eiffel-Tower!') === 'eiffeltower'
 */
export function normalizeAnswer(s: string): string {
  const lowered = s.toLowerCase();
  const noPunct = lowered.replace(ASCII_PUNCTUATION, '');
  const noArticles = noPunct.replace(ARTICLES, ' ');
  return pySplitWhitespace(noArticles).join(' ');
}

const YES_NO = new Set(['yes', 'no', 'noanswer']);

/**
 * SQuAD token F1 on normalised strings (multiset overlap). 0 when either side is empty, and 0 when
 * either side normalises to yes/no/noanswer and the two differ. Not rounded.
 */
export function tokenF1(prediction: string, groundTruth: string): number {
  const p = normalizeAnswer(prediction);
  const g = normalizeAnswer(groundTruth);
  if ((YES_NO.has(p) || YES_NO.has(g)) && p !== g) return 0;
  const pTokens = pySplitWhitespace(p);
  const gTokens = pySplitWhitespace(g);
  const counts = new Map<string, number>();
  for (const t of gTokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pTokens) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / pTokens.length;
  const recall = same / gTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Exact match: 1 when both normalise to the same non-empty string. */
export function exactMatch(prediction: string, groundTruth: string): number {
  const p = normalizeAnswer(prediction);
  const g = normalizeAnswer(groundTruth);
  return p.length > 0 && g.length > 0 && p === g ? 1 : 0;
}

/**
 * Strict cover-EM: 1 when the normalised ground truth is a character substring of the normalised
 * prediction (both non-empty). Character-level on purpose: ground truth "1" covers "10 years".
 */
export function coverEmStrict(prediction: string, groundTruth: string): number {
  const p = normalizeAnswer(prediction);
  const g = normalizeAnswer(groundTruth);
  return p.length > 0 && g.length > 0 && p.includes(g) ? 1 : 0;
}

/** Loose cover-EM: 1 when either normalised string contains the other (both non-empty). */
export function coverEmLoose(prediction: string, groundTruth: string): number {
  const p = normalizeAnswer(prediction);
  const g = normalizeAnswer(groundTruth);
  return p.length > 0 && g.length > 0 && (p.includes(g) || g.includes(p)) ? 1 : 0;
}

/** Half-EM: 1 when equal, 0.5 when either contains the other, else 0 (both non-empty). */
export function halfEm(prediction: string, groundTruth: string): number {
  const p = normalizeAnswer(prediction);
  const g = normalizeAnswer(groundTruth);
  if (p.length === 0 || g.length === 0) return 0;
  if (p === g) return 1;
  return p.includes(g) || g.includes(p) ? 0.5 : 0;
}
