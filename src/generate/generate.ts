/**
 * `spell generate` as a library: SPELL's self-play as a data engine over chat endpoints.
 *
 * Runs question slots 0, 1, 2, … (each a fixed task and cluster, see schedule.ts) with up to
 * `concurrency` in flight, appends every finished slot to the state file at once, and stops
 * asking when `questions` are kept or `maxAttempts` slots are used. Resuming replays the state
 * file into the history memory and the near-duplicate index and runs only the slots that have no
 * finished record (failed slots included), so nothing is asked twice and nothing is lost. At the
 * end it writes the dataset and a summary JSON, atomically, from the whole state file.
 */
import { existsSync } from 'node:fs';
import { DataError, RemoteEngineError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/atomic.ts';
import type { Cluster } from '../data/cluster.ts';
import { historyCapacity } from '../spell/config.ts';
import { HistoryMemory } from '../spell/history.ts';
import type { Task } from '../spell/task.ts';
import { datasetRows, writeDataset } from './dataset.ts';
import type { KeepPolicy } from './keep-policy.ts';
import { NearDuplicateIndex } from './near-duplicate.ts';
import {
  clusterKey,
  replayRecord,
  responderPromptFor,
  runQuestion,
  type FlowContext,
  type FlowSettings,
} from './question-flow.ts';
import { REJECT_REASONS, type QuestionRecord, type RejectReason } from './record.ts';
import { SlotSchedule } from './schedule.ts';
import {
  StateWriter,
  checkIdentity,
  latestBySlot,
  loadState,
  type RunIdentity,
} from './state-file.ts';
import { summarise, type GenerateSummary, type Prices } from './summary.ts';
import type { TokenCounter } from './token-counter.ts';
import type { ChatEngine } from '../engine/chat.ts';

/** Live counts for a progress display (whole run, resumed slots included). */
export interface GenerateProgress {
  readonly finished: number;
  readonly maxAttempts: number;
  readonly kept: number;
  readonly target: number;
  readonly rejected: Readonly<Record<RejectReason, number>>;
  readonly errors: number;
  readonly inFlight: number;
  /** Slots finished in this session and its elapsed time, for throughput. */
  readonly sessionFinished: number;
  readonly sessionElapsedMs: number;
  readonly totalTokens: number;
}

export interface GenerateOptions {
  readonly engine: ChatEngine;
  /** Verifier engine; default `engine`. */
  readonly judge?: ChatEngine;
  readonly counter: TokenCounter;
  /** Routed clusters per task. */
  readonly clusters: Readonly<Record<Task, readonly Cluster[]>>;
  readonly tasks: readonly Task[];
  readonly identity: RunIdentity;
  readonly settings: FlowSettings;
  readonly keep: KeepPolicy;
  readonly duplicateThreshold: number;
  /** Stop asking once this many questions are kept. */
  readonly questions: number;
  /** Never use more than this many slots (questioner calls). */
  readonly maxAttempts: number;
  readonly concurrency: number;
  /** Dataset path (.jsonl or .parquet). */
  readonly out: string;
  readonly statePath: string;
  readonly summaryPath: string;
  readonly resume: boolean;
  /** Consecutive failed slots after which the run stops (state kept for --resume). */
  readonly maxConsecutiveErrors: number;
  readonly prices?: Prices;
  /** Stop launching new slots (in-flight ones finish and are recorded). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: GenerateProgress) => void;
  readonly onNotice?: (message: string) => void;
}

export interface GenerateResult {
  readonly summary: GenerateSummary;
  readonly rows: number;
  /** Slots finished in this session. */
  readonly sessionFinished: number;
  readonly sessionElapsedMs: number;
  /** Why asking stopped. */
  readonly stoppedBecause: 'target_reached' | 'attempts_exhausted' | 'interrupted';
  /** What the endpoint did to the last slot that failed in this session, if one did. */
  readonly lastError?: string;
}

function countsOf(latest: ReadonlyMap<number, QuestionRecord>) {
  const rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<
    RejectReason,
    number
  >;
  let kept = 0;
  let errors = 0;
  for (const r of latest.values()) {
    if (r.status === 'kept') kept++;
    else if (r.status === 'error') errors++;
    else if (r.reason !== undefined) rejected[r.reason]++;
  }
  return { rejected, kept, errors };
}

function tokensOf(r: QuestionRecord): number {
  return Object.values(r.usage).reduce((s, u) => s + u.promptTokens + u.completionTokens, 0);
}

/**
 * Run (or resume) a generation.
 * @throws ConfigurationError when the state file exists without `resume`, or its plan differs.
 * @throws RemoteEngineError after `maxConsecutiveErrors` failed slots in a row, or when every
 *   slot of this session failed at the endpoint (state is kept; the dataset and summary are still
 *   written for the slots that finished).
 */
export async function runGenerate(opts: GenerateOptions): Promise<GenerateResult> {
  const started = Date.now();
  const s = opts.settings;
  const memory = new HistoryMemory(historyCapacity(s.algorithm));
  const duplicates = new NearDuplicateIndex(opts.duplicateThreshold);
  const sizes = {
    docmath: opts.clusters.docmath.length,
    qa: opts.clusters.qa.length,
    mc: opts.clusters.mc.length,
  };
  const schedule = new SlotSchedule(s.seed, opts.tasks, sizes);

  // State: new file, or replay an existing one.
  let records: QuestionRecord[] = [];
  let writer: StateWriter;
  if (opts.resume && existsSync(opts.statePath)) {
    const loaded = loadState(opts.statePath);
    checkIdentity(opts.statePath, loaded.header.identity, opts.identity);
    if (loaded.droppedTornLines > 0) {
      opts.onNotice?.(`dropped a partly written last line of ${opts.statePath}`);
    }
    records = loaded.records;
    for (const r of records) replayRecord(r, memory, duplicates, s.algorithm);
    writer = StateWriter.append(opts.statePath);
    const latest = latestBySlot(records);
    opts.onNotice?.(
      `resuming ${opts.statePath}: ${latest.size} slots recorded, ${[...latest.values()].filter((r) => r.status === 'error').length} failed ones will be re-run`,
    );
  } else {
    if (opts.resume) opts.onNotice?.(`no state file at ${opts.statePath}; starting a new run`);
    writer = StateWriter.create(opts.statePath, opts.identity);
  }
  const latest = latestBySlot(records);
  const counts = countsOf(latest);
  let totalTokens = records.reduce((t, r) => t + tokensOf(r), 0);

  const ctx: FlowContext = {
    engine: opts.engine,
    judge: opts.judge ?? opts.engine,
    counter: opts.counter,
    memory,
    duplicates,
    keep: opts.keep,
    settings: s,
  };

  let next = 0;
  let inFlight = 0;
  let sessionFinished = 0;
  let consecutiveErrors = 0;
  let sessionErrors = 0;
  let lastError: string | undefined;
  let failure: RemoteEngineError | undefined;
  const isDone = (slot: number): boolean => {
    const r = latest.get(slot);
    return r !== undefined && r.status !== 'error';
  };
  const nextSlot = (): number | undefined => {
    while (next < opts.maxAttempts && isDone(next)) next++;
    return next < opts.maxAttempts ? next++ : undefined;
  };
  const progress = (): void =>
    opts.onProgress?.({
      finished: [...latest.values()].filter((r) => r.status !== 'error').length,
      maxAttempts: opts.maxAttempts,
      kept: counts.kept,
      target: opts.questions,
      rejected: counts.rejected,
      errors: counts.errors,
      inFlight,
      sessionFinished,
      sessionElapsedMs: Date.now() - started,
      totalTokens,
    });
  const shouldStop = (): boolean =>
    counts.kept >= opts.questions || failure !== undefined || opts.signal?.aborted === true;

  const worker = async (): Promise<void> => {
    while (!shouldStop()) {
      const slot = nextSlot();
      if (slot === undefined) return;
      const { task, clusterIndex } = schedule.at(slot);
      const cluster = opts.clusters[task][clusterIndex];
      inFlight++;
      progress();
      let record: QuestionRecord;
      try {
        record = await runQuestion(ctx, slot, task, cluster);
      } finally {
        inFlight--;
      }
      writer.write(record);
      records.push(record);
      const previous = latest.get(slot);
      if (previous?.status === 'error') counts.errors--;
      latest.set(slot, record);
      sessionFinished++;
      totalTokens += tokensOf(record);
      if (record.status === 'kept') counts.kept++;
      else if (record.status === 'error') counts.errors++;
      else if (record.reason !== undefined) counts.rejected[record.reason]++;
      if (record.status === 'error') {
        sessionErrors++;
        lastError = record.detail ?? 'unknown';
        consecutiveErrors++;
        if (consecutiveErrors >= opts.maxConsecutiveErrors && failure === undefined) {
          failure = new RemoteEngineError(
            `${consecutiveErrors} question slots in a row failed at the endpoint (last: ${record.detail ?? 'unknown'}); the state is saved in ${opts.statePath} — fix the endpoint and re-run with --resume`,
            opts.engine.model,
          );
        }
      } else {
        consecutiveErrors = 0;
      }
      progress();
    }
  };

  try {
    await Promise.all(Array.from({ length: opts.concurrency }, () => worker()));
  } finally {
    writer.close();
  }

  // Final outputs, from every slot's latest record (earlier sessions included).
  const finals = [...latest.values()].sort((a, b) => a.slot - b.slot);
  const byKey = new Map<string, Cluster>();
  for (const t of opts.tasks) for (const c of opts.clusters[t]) byKey.set(clusterKey(t, c.id), c);
  const rows = datasetRows(finals, s.groupSize, (r) => {
    const cluster = byKey.get(clusterKey(r.task, r.clusterId));
    if (cluster === undefined || r.responderQuestion === undefined) {
      throw new DataError(
        `${opts.statePath}: slot ${r.slot} names cluster '${r.clusterId}' (${r.task}), which the corpus no longer has`,
        { file: opts.statePath, field: 'clusterId' },
      );
    }
    return responderPromptFor(r.task, cluster, r.responderQuestion);
  });
  writeDataset(opts.out, rows);
  const summary = summarise(finals, s.groupSize, opts.prices);
  writeFileAtomic(
    opts.summaryPath,
    JSON.stringify({ identity: opts.identity, keep: opts.keep.spec, ...summary }, null, 2) + '\n',
  );
  if (failure === undefined && sessionFinished > 0 && sessionErrors === sessionFinished) {
    // Nothing of this session reached the endpoint's answer: a failed command, not a partial run.
    failure = new RemoteEngineError(
      `every question slot of this run (${sessionErrors}) failed at the endpoint (last: ${lastError ?? 'unknown'}); the state is saved in ${opts.statePath} — fix the endpoint and re-run with --resume`,
      opts.engine.model,
    );
  }
  if (failure !== undefined) throw failure;
  return {
    summary,
    rows: rows.length,
    sessionFinished,
    sessionElapsedMs: Date.now() - started,
    stoppedBecause:
      counts.kept >= opts.questions
        ? 'target_reached'
        : opts.signal?.aborted === true
          ? 'interrupted'
          : 'attempts_exhausted',
    ...(lastError !== undefined ? { lastError } : {}),
  };
}
