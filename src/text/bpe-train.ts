/**
 * A small byte-level BPE trainer (GPT-2 / Qwen style), pure and synchronous: texts in, vocabulary
 * and ordered merges out. The result is written as an HF tokenizer folder by tokenizer-files.ts and
 * loaded back through the same loader as Qwen3's, so the embedded default model's tokenizer and a
 * real model's take one code path.
 *
 * Algorithm: split text into pre-tokenizer chunks and count equal chunks once (a word-frequency
 * table); spell each distinct chunk in the 256 byte characters; then repeatedly merge the most
 * frequent adjacent pair. Pair counts are kept incrementally: a merge only revisits the words that
 * contain the pair (an index from pair to words), and the best pair comes from a max-heap with lazy
 * invalidation (stale entries are re-checked when popped).
 *
 * Determinism: ties between equally frequent pairs go to the pair whose (left, right) token
 * strings sort first, so the result depends only on the input texts and options, never on hash or
 * insertion order.
 */
import { ConfigurationError } from '../core/errors.ts';
import { BYTE_ALPHABET, BYTE_CHARS } from './byte-level.ts';
import { splitPretokens } from './pretokenize.ts';

export interface BpeTrainOptions {
  /** Total vocabulary size wanted, including the 256 byte tokens and the added tokens. */
  readonly vocabSize: number;
  /** Added tokens (appended after the merges, in this order); never split, never merged into. */
  readonly addedTokens: readonly string[];
  /** Stop early when the best pair occurs fewer times than this. Default 2. */
  readonly minFrequency?: number;
}

export interface BpeModel {
  /** Token strings by id: byte alphabet, merged tokens, then added tokens. */
  readonly tokens: readonly string[];
  /** Merges in rank order, as [left, right] token strings. */
  readonly merges: readonly (readonly [string, string])[];
  /** Id of the first added token (= number of base + merged tokens). */
  readonly addedTokenStart: number;
}

interface Word {
  syms: number[];
  readonly freq: number;
}

/** Pair key: ids stay below 2^21, so left * 2^21 + right is exact in a double. */
const PAIR_SHIFT = 2 ** 21;
const pairKey = (a: number, b: number): number => a * PAIR_SHIFT + b;

/** Count the pre-tokenizer chunks of all texts, with added-token strings cut out first. */
export function countChunks(
  texts: Iterable<string>,
  addedTokens: readonly string[],
): Map<string, number> {
  const counts = new Map<string, number>();
  const escaped = addedTokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const cut = escaped.length > 0 ? new RegExp(escaped.join('|'), 'gu') : undefined;
  for (const text of texts) {
    const pieces = cut ? text.split(cut) : [text];
    for (const piece of pieces) {
      for (const chunk of splitPretokens(piece)) counts.set(chunk, (counts.get(chunk) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Train a byte-level BPE model.
 * @throws ConfigurationError when vocabSize cannot hold the byte alphabet plus the added tokens
 * @example
 *   trainBpe(['low lower lowest'], { vocabSize: 262, addedTokens: ['<|endoftext|>'] }).merges
 */
export function trainBpe(texts: Iterable<string>, options: BpeTrainOptions): BpeModel {
  const minFrequency = options.minFrequency ?? 2;
  const added = options.addedTokens;
  const baseSize = BYTE_ALPHABET.length;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < baseSize + added.length) {
    throw new ConfigurationError(
      `vocab size ${options.vocabSize} is too small: expected an integer >= ${baseSize + added.length} (256 byte tokens + ${added.length} added tokens)`,
    );
  }
  if (options.vocabSize > PAIR_SHIFT) {
    throw new ConfigurationError(
      `vocab size ${options.vocabSize} is too large (max ${PAIR_SHIFT})`,
    );
  }
  if (new Set(added).size !== added.length) {
    throw new ConfigurationError(`added tokens must be distinct: ${added.join(', ')}`);
  }

  const tokens: string[] = [...BYTE_ALPHABET];
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const byteId = BYTE_CHARS.map((c) => idOf.get(c)!);
  const merges: [string, string][] = [];

  // Word table: one entry per distinct chunk, in first-seen order.
  const words: Word[] = [];
  for (const [chunk, freq] of countChunks(texts, added)) {
    const syms = Array.from(Buffer.from(chunk, 'utf8'), (b) => byteId[b]);
    if (syms.length > 1) words.push({ syms, freq });
  }

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  words.forEach((w, wi) => {
    for (let i = 0; i + 1 < w.syms.length; i++) {
      const k = pairKey(w.syms[i], w.syms[i + 1]);
      pairCount.set(k, (pairCount.get(k) ?? 0) + w.freq);
      let set = pairWords.get(k);
      if (set === undefined) pairWords.set(k, (set = new Set()));
      set.add(wi);
    }
  });

  const heap = new PairHeap(tokens);
  for (const [k, c] of pairCount) heap.push(c, k);

  const target = options.vocabSize - added.length;
  while (tokens.length < target) {
    const best = heap.popValid(pairCount);
    if (best === undefined || best.count < minFrequency) break;
    const a = Math.floor(best.key / PAIR_SHIFT);
    const b = best.key % PAIR_SHIFT;
    const merged = tokens[a] + tokens[b];
    let id = idOf.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      idOf.set(merged, id);
    }
    merges.push([tokens[a], tokens[b]]);

    const delta = new Map<number, number>();
    for (const wi of pairWords.get(best.key) ?? []) {
      const w = words[wi];
      const next = mergeWord(w.syms, a, b, id);
      if (next === w.syms) continue; // stale index entry: the pair left this word earlier
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const k = pairKey(w.syms[i], w.syms[i + 1]);
        delta.set(k, (delta.get(k) ?? 0) - w.freq);
      }
      for (let i = 0; i + 1 < next.length; i++) {
        const k = pairKey(next[i], next[i + 1]);
        delta.set(k, (delta.get(k) ?? 0) + w.freq);
        if (next[i] === id || next[i + 1] === id) {
          let set = pairWords.get(k);
          if (set === undefined) pairWords.set(k, (set = new Set()));
          set.add(wi);
        }
      }
      w.syms = next;
    }
    pairWords.delete(best.key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const c = (pairCount.get(k) ?? 0) + d;
      if (c > 0) pairCount.set(k, c);
      else pairCount.delete(k);
      // Increases need a fresh heap entry; decreases are caught lazily when the stale one pops.
      if (d > 0) heap.push(c, k);
    }
    pairCount.delete(best.key);
  }

  const addedTokenStart = tokens.length;
  for (const t of added) {
    if (idOf.has(t)) throw new ConfigurationError(`added token ${t} collides with a learned token`);
    tokens.push(t);
  }
  return { tokens, merges, addedTokenStart };
}

/** Replace every non-overlapping (a, b), left to right; returns `syms` itself when none occur. */
function mergeWord(syms: number[], a: number, b: number, id: number): number[] {
  let out: number[] | undefined;
  for (let i = 0; i < syms.length; i++) {
    if (syms[i] === a && i + 1 < syms.length && syms[i + 1] === b) {
      out ??= syms.slice(0, i);
      out.push(id);
      i++;
    } else if (out !== undefined) {
      out.push(syms[i]);
    }
  }
  return out ?? syms;
}

/**
 * Max-heap of (count, pair): higher count first, then smaller (left, right) token strings.
 * Entries can be stale; `popValid` skips and refreshes them against the live counts.
 */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  constructor(private readonly tokens: readonly string[]) {}

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  popValid(live: ReadonlyMap<number, number>): { count: number; key: number } | undefined {
    while (this.counts.length > 0) {
      const count = this.counts[0];
      const key = this.keys[0];
      this.popTop();
      const now = live.get(key) ?? 0;
      if (now === count) return { count, key };
      // A stale entry: counts that fell are re-queued here (rises were pushed when they happened).
      if (now > 0) this.push(now, key);
    }
    return undefined;
  }

  private popTop(): void {
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.counts.length && this.before(l, m)) m = l;
      if (r < this.counts.length && this.before(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  /** Does entry i come out before entry j? */
  private before(i: number, j: number): boolean {
    const ci = this.counts[i];
    const cj = this.counts[j];
    if (ci !== cj) return ci > cj;
    const ki = this.keys[i];
    const kj = this.keys[j];
    const li = this.tokens[Math.floor(ki / PAIR_SHIFT)];
    const lj = this.tokens[Math.floor(kj / PAIR_SHIFT)];
    if (li !== lj) return li < lj;
    return this.tokens[ki % PAIR_SHIFT] < this.tokens[kj % PAIR_SHIFT];
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
}
