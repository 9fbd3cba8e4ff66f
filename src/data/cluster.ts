/**
 * The one normalised shape every corpus reader produces: a document cluster.
 *
 * A cluster is the unit SPELL plays on: the questioner sees a few of its documents, the responder
 * sees all of them (the rest act as distractors). Readers for the reference parquet layout and
 * the simple JSONL layout both end here; nothing downstream knows which file a cluster came from.
 */
import type { Task } from '../spell/task.ts';

/** One document cluster, as every reader returns it. */
export interface Cluster {
  /** Stable identifier (reference `question_id`, simple `id`); keys the history memory. */
  readonly id: string;
  /** Source name (reference `data_source`, simple `source`); routes the cluster to tasks. */
  readonly source: string;
  /** An explicit task; when set, routing sends the cluster to exactly this task. */
  readonly task?: Task;
  /** The documents, in their original order; never empty, no empty document. */
  readonly documents: readonly string[];
}

/** Why a row was skipped when reading with `skipBad`. */
export type SkipReason =
  | 'corrupt_file'
  | 'bad_json'
  | 'missing_column'
  | 'wrong_type'
  | 'empty_cluster'
  | 'empty_document'
  | 'duplicate_id'
  | 'not_text'
  | 'too_large';

export const SKIP_REASONS: readonly SkipReason[] = [
  'corrupt_file',
  'bad_json',
  'missing_column',
  'wrong_type',
  'empty_cluster',
  'empty_document',
  'duplicate_id',
  'not_text',
  'too_large',
];

/** One problem found while reading: where it is and why. */
export interface ReadProblem {
  readonly reason: SkipReason;
  readonly file: string;
  /**
   * 1-based row (JSONL: line number; parquet: row number; text: part of a split unit); absent
   * for whole-file problems.
   */
  readonly row?: number;
  readonly field?: string;
  readonly message: string;
}

/** What a read returns: the clusters plus everything that was skipped. */
export interface ReadResult {
  readonly clusters: Cluster[];
  /** Rows seen (JSONL: non-blank lines; parquet: rows; text: clusters made and files skipped). */
  readonly rows: number;
  /** Skipped rows per reason (`corrupt_file`, `not_text`, `too_large` count files, not rows). */
  readonly skipped: Partial<Record<SkipReason, number>>;
  /** Every skipped row's problem, in reading order. */
  readonly problems: ReadProblem[];
}

/** Size bounds of clusters made from plain-text documents, in characters (UTF-16 code units). */
export interface TextBounds {
  /** A document is at most this long (a longer section is cut at a line break or a space). */
  readonly documentChars: number;
  /** A cluster's documents, newline-joined as the responder reads them, are at most this long. */
  readonly clusterChars: number;
}

/** Options shared by every reader. */
export interface ReadOptions {
  /** Skip bad rows (counted by reason) instead of throwing a DataError at the first one. */
  readonly skipBad?: boolean;
  /** How text folders are cut into documents and clusters (default DEFAULT_TEXT_BOUNDS). */
  readonly text?: TextBounds;
}
