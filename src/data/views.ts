/**
 * The responder's view of a cluster (every document in original order, newline-joined) and the
 * token-count callback corpus statistics measure it with. The questioner's document draw lives in
 * spell/history.ts (`HistoryMemory.planDraw`), prompt budgets in the callers that render prompts.
 */
import type { Cluster } from './cluster.ts';

/** Counts tokens of a text with some tokenizer (or whitespace words); never loads one here. */
export type CountTokens = (text: string) => number;

/** The responder's context: every document in original order, newline-joined. */
export function responderContext(cluster: Cluster): string {
  return cluster.documents.join('\n');
}
