/**
 * The run's state file: JSON lines, appended as questions finish, so an interrupted run loses at
 * most the questions in flight. Line 1 is a header naming everything that decides which question
 * a slot asks (model, tasks, seed, sizes, data); each following line is one QuestionRecord.
 *
 * Resuming reads it back: a torn last line (the process died mid-write) is dropped and the file
 * rewritten atomically without it; a bad line anywhere else is a DataError naming file and line.
 * A later record for the same slot supersedes an earlier one (failed slots are re-run).
 */
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic.ts';
import { ConfigurationError, DataError } from '../core/errors.ts';
import { LEGACY_REJECT_REASONS, type QuestionRecord } from './record.ts';

/** Everything that must match for a resumed run to continue the same plan. */
export interface RunIdentity {
  readonly model: string;
  readonly tasks: readonly string[];
  readonly seed: number;
  readonly groupSize: number;
  readonly votes: number;
  readonly docsPerQuestion: number;
  readonly keep: string;
  readonly data: readonly string[];
  /** Present (true) only when --qa-answer-in-documents was given, so older state files still match. */
  readonly qaAnswerInDocuments?: true;
  /** Present only when --mc-swap-letter was given (same reason). */
  readonly mcWrongLetter?: 'swap';
  /** Present only when --reward-combine is not the default `max` (same reason). */
  readonly rewardCombine?: 'mean' | 'min' | 'sum' | 'rule';
}

export interface StateHeader {
  readonly type: 'header';
  readonly version: 1;
  readonly identity: RunIdentity;
  readonly createdAt: string;
}

const headerSchema = z.object({
  type: z.literal('header'),
  version: z.literal(1),
  identity: z.object({
    model: z.string(),
    tasks: z.array(z.string()),
    seed: z.number(),
    groupSize: z.number(),
    votes: z.number(),
    docsPerQuestion: z.number(),
    keep: z.string(),
    data: z.array(z.string()),
    qaAnswerInDocuments: z.literal(true).optional(),
    mcWrongLetter: z.literal('swap').optional(),
    rewardCombine: z.enum(['mean', 'min', 'sum', 'rule']).optional(),
  }),
  createdAt: z.string(),
});

// Records are written by this program; the check guards against a foreign or hand-edited file.
const recordSchema = z.looseObject({
  type: z.literal('question'),
  slot: z.int().min(0),
  status: z.enum(['kept', 'rejected', 'error']),
  task: z.enum(['docmath', 'qa', 'mc']),
  clusterId: z.string(),
  questionerDocuments: z.array(z.int().min(0)),
  usage: z.record(z.string(), z.unknown()),
});

export interface LoadedState {
  readonly header: StateHeader;
  /** Every record in file order (completion order). */
  readonly records: QuestionRecord[];
  /** 1 when a torn final line was dropped. */
  readonly droppedTornLines: number;
}

function parseLine(file: string, line: string, lineNo: number): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch (err) {
    throw new DataError(
      `${file}: line ${lineNo} is not valid JSON`,
      { file, row: lineNo },
      { cause: err },
    );
  }
}

/** A record with a reason in the words older versions wrote, in today's (record.ts). */
function withCurrentWords(record: QuestionRecord): QuestionRecord {
  const legacy = record.reason !== undefined ? LEGACY_REJECT_REASONS[record.reason] : undefined;
  return legacy !== undefined ? { ...record, reason: legacy } : record;
}

/**
 * Read a state file for resuming (reject reasons in older words are read as today's).
 * @throws DataError for a missing/foreign header or a bad line before the last.
 */
export function loadState(file: string): LoadedState {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  // A file written completely ends with '\n', so the last element is ''. Anything else there is
  // a line the process did not finish writing.
  let dropped = 0;
  const last = lines.pop() ?? '';
  if (last !== '') dropped = 1;
  if (lines.length === 0) {
    throw new DataError(`${file}: has no complete header line; delete it and start again`, {
      file,
    });
  }
  const headerParsed = headerSchema.safeParse(parseLine(file, lines[0], 1));
  if (!headerParsed.success) {
    throw new DataError(
      `${file}: line 1 is not a spell generate state header (${headerParsed.error.issues[0]?.message ?? 'bad header'})`,
      { file, row: 1 },
    );
  }
  const records: QuestionRecord[] = [];
  lines.slice(1).forEach((line, i) => {
    const lineNo = i + 2;
    if (line.trim() === '') return;
    const parsed = recordSchema.safeParse(parseLine(file, line, lineNo));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DataError(
        `${file}: line ${lineNo}, field '${issue?.path.join('.') ?? '?'}': ${issue?.message ?? 'bad record'}`,
        { file, row: lineNo, field: issue?.path.join('.') },
      );
    }
    records.push(withCurrentWords(parsed.data as unknown as QuestionRecord));
  });
  if (dropped > 0) {
    // Rewrite without the torn tail, atomically, so appends start on a clean line.
    writeFileAtomic(file, lines.join('\n') + '\n');
  }
  return { header: headerParsed.data, records, droppedTornLines: dropped };
}

/**
 * Refuse to resume a run whose plan differs (a different model, seed, tasks, sizes or data would
 * mix two experiments in one file).
 * @throws ConfigurationError naming the differing field, the stored and the requested values.
 */
export function checkIdentity(file: string, stored: RunIdentity, requested: RunIdentity): void {
  // Both sides' keys: optional keys are written only when set, so one side may lack them.
  const keys = new Set([...Object.keys(stored), ...Object.keys(requested)]) as Set<
    keyof RunIdentity
  >;
  for (const key of keys) {
    const a = JSON.stringify(stored[key]);
    const b = JSON.stringify(requested[key]);
    if (a !== b) {
      throw new ConfigurationError(
        `cannot resume ${file}: it was started with ${key}=${a}, this run asks for ${key}=${b}; use the original options or a new --out`,
      );
    }
  }
}

/** The latest record per slot (later lines supersede earlier ones). */
export function latestBySlot(records: readonly QuestionRecord[]): Map<number, QuestionRecord> {
  const bySlot = new Map<number, QuestionRecord>();
  for (const r of records) bySlot.set(r.slot, r);
  return bySlot;
}

/** Appends records, one fsync'd line each. */
export class StateWriter {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Start a new state file with its header (refuses to overwrite an existing one). */
  static create(file: string, identity: RunIdentity): StateWriter {
    if (existsSync(file)) {
      throw new ConfigurationError(
        `${file} already exists (an earlier run's state); pass --resume to continue it, or delete it to start over`,
      );
    }
    const header: StateHeader = {
      type: 'header',
      version: 1,
      identity,
      createdAt: new Date().toISOString(),
    };
    writeFileAtomic(file, JSON.stringify(header) + '\n');
    return new StateWriter(file, openSync(file, 'a'));
  }

  /** Append to an existing state file (after `loadState`). */
  static append(file: string): StateWriter {
    return new StateWriter(file, openSync(file, 'a'));
  }

  write(record: QuestionRecord): void {
    if (this.fd === undefined) throw new Error(`state file ${this.file} is closed`);
    const bytes = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
