/**
 * Document views of a cluster: what the questioner sees, what the responder sees, and the
 * no-document variant used by the grounding filter; plus token budgeting of rendered prompts.
 *
 * Questioner: k new documents drawn uniformly without replacement (fewer when the cluster is
 * smaller), or — for a cluster with history — the stored evidence union plus k new documents drawn
 * from the rest; indices sorted, texts joined by single newlines (spell-algorithm.md §2.5, §8).
 * Responder: every document in original order, newline-joined. Grounding filter: the word "Empty".
 * Token counts come from an injected `countTokens`, so this file never loads a tokenizer.
 */
import { DataError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { Cluster } from './cluster.ts';

/** The literal document slot of the no-document (grounding filter) prompt. */
export const NO_DOCUMENTS = 'Empty';

/** Counts tokens of a rendered prompt with the model's tokenizer (chat template applied). */
export type CountTokens = (text: string) => number;

/** The questioner's documents for one draw. */
export interface QuestionerDocs {
  /** Every document index shown (evidence union + new), ascending; the next evidence union. */
  readonly indices: readonly number[];
  /** The indices newly drawn this time (ascending); a subset of `indices`. */
  readonly newIndices: readonly number[];
  /** The shown documents in index order, joined by single newlines. */
  readonly text: string;
}

/**
 * Pick the questioner's documents.
 * @param k new documents to draw (the reference's n_docs, 5 in the paper; 2–3 locally).
 * @param evidence the history memory's evidence union for this cluster, if any.
 * @throws DataError when an evidence index is outside the cluster or k is not a positive integer.
 * @example selectQuestionerDocs(cluster, 3, rng).text
 */
export function selectQuestionerDocs(
  cluster: Cluster,
  k: number,
  rng: Rng,
  evidence: readonly number[] = [],
): QuestionerDocs {
  if (!Number.isInteger(k) || k <= 0) {
    throw new DataError(`questioner document count must be a positive integer, got ${k}`);
  }
  const n = cluster.documents.length;
  const union = new Set<number>();
  for (const i of evidence) {
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new DataError(
        `cluster '${cluster.id}': evidence index ${i} is outside its ${n} documents`,
        { field: 'evidence' },
      );
    }
    union.add(i);
  }
  const rest: number[] = [];
  for (let i = 0; i < n; i++) if (!union.has(i)) rest.push(i);
  const fresh = rng.sample(rest, Math.min(k, rest.length)).sort((a, b) => a - b);
  const indices = [...union, ...fresh].sort((a, b) => a - b);
  return {
    indices,
    newIndices: fresh,
    text: indices.map((i) => cluster.documents[i]).join('\n'),
  };
}

/** The responder's context: every document in original order, newline-joined. */
export function responderContext(cluster: Cluster): string {
  return cluster.documents.join('\n');
}

/** The outcome of budgeting one responder prompt. */
export type ResponderFit =
  | { readonly fits: true; readonly tokens: number }
  | { readonly fits: false; readonly tokens: number };

/**
 * Check a rendered responder prompt against the prompt budget. Over-long prompts are not an
 * error: the caller drops the question and counts it (the reference drops them silently).
 */
export function fitResponderPrompt(
  prompt: string,
  countTokens: CountTokens,
  maxPromptTokens: number,
): ResponderFit {
  const tokens = countTokens(prompt);
  return { fits: tokens <= maxPromptTokens, tokens };
}

/**
 * Check a rendered questioner prompt against the budget; the reference tokenizes it with
 * truncation "error", so an over-long one is a data problem to fix, not a sample to drop.
 * @returns the prompt's token count.
 * @throws DataError naming the cluster, the count and the limit.
 */
export function assertQuestionerFits(
  clusterId: string,
  prompt: string,
  countTokens: CountTokens,
  maxPromptTokens: number,
): number {
  const tokens = countTokens(prompt);
  if (tokens > maxPromptTokens) {
    throw new DataError(
      `cluster '${clusterId}': questioner prompt is ${tokens} tokens, over the ${maxPromptTokens}-token prompt limit; use shorter documents, fewer questioner documents, or a larger max prompt length`,
      { field: 'documents' },
    );
  }
  return tokens;
}
