/**
 * Shared pieces of the generator: documents with keys (so evidence survives shuffling), number
 * formatting, and the answer format the rule checks accept.
 */
import type { Rng } from '../../core/rng.ts';

/** A question with its programmatic answer, before the cluster's documents are shuffled. */
export interface DraftQuestion {
  /** The template that made it (e.g. `revenue_growth`), for per-kind eval reports. */
  readonly kind: string;
  readonly question: string;
  readonly answer: string;
  /** Keys of the documents the answer needs. */
  readonly evidenceKeys: readonly string[];
  /** For mc: the four option texts in A–D order. */
  readonly options?: readonly [string, string, string, string];
  /** For docmath: the calculation, written with the numbers exactly as the documents print them. */
  readonly derivation?: string;
}

/** A generated cluster: keyed documents plus candidate questions about them. */
export interface DraftCluster {
  readonly docs: readonly { readonly key: string; readonly text: string }[];
  readonly questions: readonly DraftQuestion[];
}

/** A finished question: evidence as document indices of the shuffled cluster. */
export interface SynthQuestion {
  readonly kind: string;
  readonly question: string;
  readonly answer: string;
  readonly evidence: readonly number[];
  readonly options?: readonly [string, string, string, string];
  readonly derivation?: string;
}

/** A finished cluster: documents in their final (shuffled) order and its questions. */
export interface SynthCluster {
  readonly documents: readonly string[];
  readonly questions: readonly SynthQuestion[];
}

/** Shuffle a draft's documents and rewrite evidence keys as indices. */
export function finishCluster(draft: DraftCluster, rng: Rng): SynthCluster {
  const docs = rng.shuffle(draft.docs.slice());
  const indexOf = new Map(docs.map((d, i) => [d.key, i]));
  const questions = draft.questions.map((q) => {
    const evidence = q.evidenceKeys
      .map((k) => {
        const i = indexOf.get(k);
        if (i === undefined) throw new Error(`generator bug: evidence key ${k} has no document`);
        return i;
      })
      .sort((a, b) => a - b);
    return {
      kind: q.kind,
      question: q.question,
      answer: q.answer,
      evidence,
      ...(q.options === undefined ? {} : { options: q.options }),
      ...(q.derivation === undefined ? {} : { derivation: q.derivation }),
    };
  });
  return { documents: docs.map((d) => d.text), questions };
}

/** `count` distinct items from a list, in draw order. */
export function pick<T>(rng: Rng, items: readonly T[], count: number): T[] {
  return rng.sample(items, count);
}

/** An integer in [lo, hi]. */
export function between(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

/** A value held in tenths, printed with one decimal ("1234" → "123.4"). */
export function tenths(v10: number): string {
  return (v10 / 10).toFixed(1);
}

/**
 * A numeric answer as a plain decimal string: 2 decimals from 10 up, 3 below, trailing zeros
 * removed. Both keep the rounding error well under the rule check's 0.15% tolerance for |x| ≥ 1.
 */
export function formatAnswer(x: number): string {
  const digits = Math.abs(x) >= 10 ? 2 : 3;
  let s = x.toFixed(digits);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

/** Join a list as English: "a", "a and b", "a, b and c". */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
