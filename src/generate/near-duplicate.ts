/**
 * Near-duplicate question detection within one cluster: normalised token-set Jaccard similarity.
 *
 * A questioner rewarded for "new" questions can game the history check by rewording the same
 * question; the reference's memory check does not catch that. Normalisation: lower case, split on
 * anything that is not a letter or digit, drop a few function words. Pure; no I/O.
 */

/** Default similarity at or above which a question counts as a near duplicate. */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.8;

const STOP_WORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'the',
  'of',
  'in',
  'on',
  'to',
  'and',
  'or',
  'is',
  'are',
  'was',
  'were',
  'for',
  'by',
  'what',
  'which',
  'how',
  'did',
  'does',
  'do',
  'at',
  'as',
  'with',
  'that',
  'this',
]);

/** The normalised token set of a question. */
export function questionTokens(question: string): Set<string> {
  const words = question.toLowerCase().split(/[^\p{L}\p{N}]+/u);
  return new Set(words.filter((w) => w !== '' && !STOP_WORDS.has(w)));
}

/** |A ∩ B| / |A ∪ B|; two empty sets count as identical (1). */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const t of a) if (b.has(t)) inter++;
  return inter / (a.size + b.size - inter);
}

/** A match against an earlier question of the same cluster. */
export interface DuplicateMatch {
  /** The slot of the earlier question. */
  readonly slot: number;
  readonly similarity: number;
}

/**
 * Questions seen so far, per cluster key. `check` and `add` are separate so a caller can decide
 * to register only questions that passed; both are synchronous, so concurrent slots in one event
 * loop never race between checking and registering.
 */
export class NearDuplicateIndex {
  private readonly byKey = new Map<string, { slot: number; tokens: Set<string> }[]>();

  constructor(readonly threshold: number = DEFAULT_DUPLICATE_THRESHOLD) {
    if (!(threshold > 0 && threshold <= 1)) {
      throw new RangeError(`near-duplicate threshold must be in (0, 1], got ${threshold}`);
    }
  }

  /** The most similar earlier question at or above the threshold, if any. */
  check(key: string, question: string): DuplicateMatch | undefined {
    const tokens = questionTokens(question);
    let best: DuplicateMatch | undefined;
    for (const e of this.byKey.get(key) ?? []) {
      const similarity = jaccard(tokens, e.tokens);
      if (similarity >= this.threshold && (best === undefined || similarity > best.similarity)) {
        best = { slot: e.slot, similarity };
      }
    }
    return best;
  }

  add(key: string, slot: number, question: string): void {
    const list = this.byKey.get(key);
    const entry = { slot, tokens: questionTokens(question) };
    if (list === undefined) this.byKey.set(key, [entry]);
    else list.push(entry);
  }
}
