/**
 * The history memory (spell-algorithm.md §8, §2.7): per cluster and task, the last L solved
 * questions with the documents their questioner saw. It drives the context-length curriculum:
 * the next questioner draw shows the union of stored documents plus k new ones, and the stored
 * questions as examples to beat.
 *
 * Choices (decisions 2 and §11.5):
 * - evidence is CUMULATIVE: each entry stores the union of every stored entry's evidence and
 *   its own, so evicting the oldest entry never shrinks the context;
 * - the duplicate check works and compares QUESTION text (whitespace-normalised). Answers are
 *   not compared: MC answers are one of four letters and docmath answers are often round
 *   numbers, so an answer check would block most legitimate new questions;
 * - the memory is serialisable (`toJSON` / `fromJSON`) so it is checkpointed with the run.
 */

import { CheckpointError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { HistoryPushConfig } from './config.ts';
import type { QuestionerExample } from './prompts/questioner.ts';
import type { Task } from './task.ts';
import { parseTask } from './task.ts';

/** One solved question and the (cumulative) document indices its questioner saw. */
export interface HistoryEntry {
  /** Sorted, distinct paragraph indices within the cluster. */
  readonly evidence: readonly number[];
  /** The question as the responder saw it (MC: with its choices). */
  readonly question: string;
  /** The reference answer string. */
  readonly answer: string;
}

/** The serialised form, version 1. */
export interface HistoryMemoryJson {
  readonly version: 1;
  readonly capacity: number;
  readonly clusters: readonly {
    readonly task: Task;
    readonly clusterId: string;
    readonly entries: readonly HistoryEntry[];
  }[];
}

/**
 * Whether a question with pass rate p counts as solved and enters the memory:
 * `code` rule lower ≤ p ≤ upper (default 0.01..1.0, so fully solved questions too),
 * `paper` rule 0 < p < 1.
 */
export function shouldPushToHistory(p: number, cfg: HistoryPushConfig): boolean {
  if (cfg.historyPush === 'paper') return p > 0 && p < 1;
  return p >= cfg.historyPushLower && p <= cfg.historyPushUpper;
}

function isIndexList(v: readonly number[], clusterSize?: number): boolean {
  return v.every(
    (i) => Number.isInteger(i) && i >= 0 && (clusterSize === undefined || i < clusterSize),
  );
}

function sortedUnique(indices: Iterable<number>): number[] {
  return [...new Set(indices)].sort((a, b) => a - b);
}

/**
 * The questioner's documents: `union` plus min(k, remaining) indices drawn uniformly without
 * replacement from the rest of the cluster, sorted ascending. With an empty union this is the
 * first-visit draw of k documents.
 * @throws RangeError on a negative k or an index outside the cluster.
 */
export function selectQuestionerDocuments(
  clusterSize: number,
  union: readonly number[],
  k: number,
  rng: Rng,
): number[] {
  if (!Number.isInteger(clusterSize) || clusterSize < 0) {
    throw new RangeError(`cluster size must be a non-negative integer, got ${clusterSize}`);
  }
  if (!Number.isInteger(k) || k < 0) {
    throw new RangeError(`new documents per draw must be a non-negative integer, got ${k}`);
  }
  if (!isIndexList(union, clusterSize)) {
    throw new RangeError(
      `history evidence ${JSON.stringify(union)} does not fit a cluster of ${clusterSize}`,
    );
  }
  const seen = new Set(union);
  const rest: number[] = [];
  for (let i = 0; i < clusterSize; i++) if (!seen.has(i)) rest.push(i);
  const fresh = rng.sample(rest, Math.min(k, rest.length));
  return sortedUnique([...union, ...fresh]);
}

/** What the questioner of one cluster gets this time: documents, examples, and whether memory was used. */
export interface QuestionerDraw {
  readonly documentIndices: number[];
  readonly examples: readonly QuestionerExample[];
  /** True when history entries shaped the prompt (logged as `from_cache`). */
  readonly fromCache: boolean;
}

function normaliseQuestion(q: string): string {
  return q.trim().replace(/\s+/g, ' ');
}

function keyOf(task: Task, clusterId: string): string {
  return JSON.stringify([task, clusterId]);
}

interface Slot {
  readonly task: Task;
  readonly clusterId: string;
  readonly entries: HistoryEntry[];
}

/** Per cluster+task queues of at most `capacity` entries, oldest first. */
export class HistoryMemory {
  private readonly slots = new Map<string, Slot>();

  /** @param capacity entries kept per cluster and task (L, default 3). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`history capacity must be a positive integer, got ${capacity}`);
    }
  }

  /** The stored entries, oldest first (empty when the cluster has no memory). */
  entries(task: Task, clusterId: string): readonly HistoryEntry[] {
    return this.slots.get(keyOf(task, clusterId))?.entries ?? [];
  }

  /** Sorted union of the evidence indices of all stored entries. */
  evidenceUnion(task: Task, clusterId: string): number[] {
    return sortedUnique(this.entries(task, clusterId).flatMap((e) => e.evidence));
  }

  /** Number of cluster+task queues holding at least one entry. */
  get clusterCount(): number {
    return this.slots.size;
  }

  /**
   * Store a solved question. Its evidence is merged with the current union (cumulative), so
   * evicting the oldest entry at capacity never shrinks the questioner's context.
   * @returns `duplicate` (nothing stored) when an entry with the same question text exists.
   */
  push(task: Task, clusterId: string, entry: HistoryEntry): 'pushed' | 'duplicate' {
    if (!isIndexList(entry.evidence)) {
      throw new RangeError(
        `history evidence must be non-negative integers, got ${JSON.stringify(entry.evidence)}`,
      );
    }
    const key = keyOf(task, clusterId);
    let slot = this.slots.get(key);
    const q = normaliseQuestion(entry.question);
    if (slot?.entries.some((e) => normaliseQuestion(e.question) === q)) return 'duplicate';
    const evidence = sortedUnique([...this.evidenceUnion(task, clusterId), ...entry.evidence]);
    if (!slot) {
      slot = { task, clusterId, entries: [] };
      this.slots.set(key, slot);
    }
    slot.entries.push({ evidence, question: entry.question, answer: entry.answer });
    while (slot.entries.length > this.capacity) slot.entries.shift();
    return 'pushed';
  }

  /**
   * Plan one questioner draw for a cluster: union of stored evidence plus k new documents, and
   * the stored entries as examples (oldest first).
   */
  planDraw(
    task: Task,
    clusterId: string,
    clusterSize: number,
    k: number,
    rng: Rng,
  ): QuestionerDraw {
    const entries = this.entries(task, clusterId);
    return {
      documentIndices: selectQuestionerDocuments(
        clusterSize,
        this.evidenceUnion(task, clusterId),
        k,
        rng,
      ),
      examples: entries.map((e) => ({ question: e.question, answer: e.answer })),
      fromCache: entries.length > 0,
    };
  }

  /** A plain, JSON-safe snapshot for checkpoints. */
  toJSON(): HistoryMemoryJson {
    return {
      version: 1,
      capacity: this.capacity,
      clusters: [...this.slots.values()].map((s) => ({
        task: s.task,
        clusterId: s.clusterId,
        entries: s.entries.map((e) => ({
          evidence: [...e.evidence],
          question: e.question,
          answer: e.answer,
        })),
      })),
    };
  }

  /**
   * Restore a snapshot made by `toJSON`.
   * @param source names the file in error messages.
   * @throws CheckpointError naming the field and value when the snapshot is malformed.
   */
  static fromJSON(value: unknown, source = 'history memory'): HistoryMemory {
    return restore(value, source);
  }
}

function fail(source: string, field: string, expected: string, got: unknown): never {
  const shown = JSON.stringify(got);
  throw new CheckpointError(
    `${source}: field "${field}" must be ${expected}, got ${shown === undefined ? 'nothing' : shown.slice(0, 80)}`,
  );
}

function asObject(v: unknown, source: string, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(source, field, 'an object', v);
  return v as Record<string, unknown>;
}

function asArray(v: unknown, source: string, field: string): unknown[] {
  if (!Array.isArray(v)) fail(source, field, 'an array', v);
  return v as unknown[];
}

function asString(v: unknown, source: string, field: string): string {
  if (typeof v !== 'string') fail(source, field, 'a string', v);
  return v;
}

function restore(value: unknown, source: string): HistoryMemory {
  const root = asObject(value, source, '(root)');
  if (root.version !== 1) fail(source, 'version', '1', root.version);
  const capacity = root.capacity;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
    fail(source, 'capacity', 'a positive integer', capacity);
  }
  const memory = new HistoryMemory(capacity);
  const seen = new Set<string>();
  asArray(root.clusters, source, 'clusters').forEach((c, ci) => {
    const at = `clusters[${ci}]`;
    const cluster = asObject(c, source, at);
    const taskName = asString(cluster.task, source, `${at}.task`);
    const task = parseTask(taskName);
    if (task === undefined) fail(source, `${at}.task`, 'one of docmath, qa, mc', taskName);
    const clusterId = asString(cluster.clusterId, source, `${at}.clusterId`);
    if (seen.has(keyOf(task, clusterId))) fail(source, at, 'a cluster listed once', clusterId);
    seen.add(keyOf(task, clusterId));
    const entries = asArray(cluster.entries, source, `${at}.entries`);
    if (entries.length > capacity) {
      fail(source, `${at}.entries`, `at most ${capacity} entries`, entries.length);
    }
    entries.forEach((e, ei) => {
      const eat = `${at}.entries[${ei}]`;
      const entry = asObject(e, source, eat);
      const evidence = asArray(entry.evidence, source, `${eat}.evidence`);
      const ok =
        evidence.every((i) => typeof i === 'number' && Number.isInteger(i) && i >= 0) &&
        evidence.every((i, j) => j === 0 || (i as number) > (evidence[j - 1] as number));
      if (!ok) {
        fail(source, `${eat}.evidence`, 'ascending distinct non-negative integers', evidence);
      }
      const restored: HistoryEntry = {
        evidence: evidence as number[],
        question: asString(entry.question, source, `${eat}.question`),
        answer: asString(entry.answer, source, `${eat}.answer`),
      };
      if (memory.push(task, clusterId, restored) === 'duplicate') {
        fail(source, `${eat}.question`, 'distinct within its cluster', restored.question);
      }
    });
  });
  return memory;
}
