/**
 * `spell score`: rule-score responder answers from JSONL, the same checks the trainer uses.
 * Input lines `{"task", "response", "answer", ...}` (stdin by default); output one line per
 * non-blank input line, in order: the input object plus "pred" and "score" (stdout by default).
 *
 * Streams line by line. `--output` is written to a temporary file and renamed into place only on
 * success, so a failed run never leaves a half-written output file. Blank lines are skipped.
 */
import {
  closeSync,
  createReadStream,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { DataError, describeError } from '../../core/errors.ts';
import { ruleScore, type QaMetric } from '../../spell/rules/index.ts';
import { parseTask } from '../../spell/task.ts';

const CLI_QA_METRICS: readonly QaMetric[] = ['cem-strict', 'cem-loose', 'em', 'f1', 'half-em'];

interface ScoreCliOptions {
  readonly input?: string;
  readonly output?: string;
  readonly qaMetric: QaMetric;
  readonly keepGoing: boolean;
}

function lineError(source: string, lineNo: number, message: string, field?: string): DataError {
  return new DataError(`${source} line ${lineNo}: ${message}`, {
    file: source,
    row: lineNo,
    ...(field === undefined ? {} : { field }),
  });
}

function describeJsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/**
 * Score one JSONL line: the parsed object plus "pred" and "score".
 * @throws DataError naming the line for invalid JSON or a missing/mistyped field.
 */
export function scoreJsonLine(
  line: string,
  lineNo: number,
  source: string,
  qaMetric: QaMetric,
): Record<string, unknown> {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (err) {
    throw lineError(source, lineNo, `invalid JSON (${describeError(err)})`);
  }
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    throw lineError(source, lineNo, `expected a JSON object, got ${describeJsonType(row)}`);
  }
  const obj = row as Record<string, unknown>;
  const taskName = obj.task;
  const task = typeof taskName === 'string' ? parseTask(taskName) : undefined;
  if (task === undefined) {
    const got =
      typeof taskName === 'string' ? JSON.stringify(taskName) : describeJsonType(taskName);
    throw lineError(
      source,
      lineNo,
      `field "task": expected "docmath", "qa" or "mc" (or docmath_qa, doc_general_qa, doc_mc), got ${got}`,
      'task',
    );
  }
  if (typeof obj.response !== 'string') {
    const got = 'response' in obj ? describeJsonType(obj.response) : 'nothing';
    throw lineError(source, lineNo, `field "response": expected a string, got ${got}`, 'response');
  }
  const answer = obj.answer;
  if (typeof answer !== 'string' && !(typeof answer === 'number' && Number.isFinite(answer))) {
    const got = 'answer' in obj ? describeJsonType(answer) : 'nothing';
    throw lineError(
      source,
      lineNo,
      `field "answer": expected a string (or number), got ${got}`,
      'answer',
    );
  }
  const { pred, score } = ruleScore(task, obj.response, String(answer), { qaMetric });
  return { ...obj, pred, score };
}

/** Write a chunk, waiting for 'drain' when the stream buffer is full (backpressure). */
function writeChunk(stream: Writable, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    stream.once('error', onError);
    const done = (): void => {
      stream.off('error', onError);
      resolve();
    };
    if (stream.write(chunk)) done();
    else stream.once('drain', done);
  });
}

function openInput(path: string | undefined): { stream: Readable; source: string } {
  if (path === undefined) return { stream: process.stdin, source: 'stdin' };
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
  } catch (err) {
    throw new DataError(`cannot read --input ${path}: ${describeError(err)}`, { file: path });
  }
  return { stream: createReadStream(path, { encoding: 'utf8' }), source: path };
}

/** Output sink: stdout, or a temp file next to --output that is renamed into place on commit. */
interface Sink {
  write(chunk: string): Promise<void>;
  commit(): void;
  abort(): void;
}

/** Bytes buffered before a write to the temp file; keeps syscalls few without holding the file. */
const FLUSH_BYTES = 1 << 16;

function openOutput(path: string | undefined): Sink {
  if (path === undefined) {
    return {
      write: (chunk) => writeChunk(process.stdout, chunk),
      commit: () => {},
      abort: () => {},
    };
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (err) {
    throw new DataError(`cannot write --output ${path}: ${describeError(err)}`, { file: path });
  }
  let pending: string[] = [];
  let pendingBytes = 0;
  let open = true;
  const flush = (): void => {
    if (pending.length === 0) return;
    const bytes = Buffer.from(pending.join(''), 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    pending = [];
    pendingBytes = 0;
  };
  return {
    write: (chunk) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= FLUSH_BYTES) flush();
      return Promise.resolve();
    },
    commit: () => {
      flush();
      fsyncSync(fd);
      closeSync(fd);
      open = false;
      renameSync(tmp, path);
    },
    abort: () => {
      if (open) closeSync(fd);
      open = false;
      rmSync(tmp, { force: true });
    },
  };
}

async function runScore(opts: ScoreCliOptions): Promise<void> {
  const { stream: input, source } = openInput(opts.input);
  const sink = openOutput(opts.output);
  let scored = 0;
  let failed = 0;
  try {
    const lines = createInterface({ input, crlfDelay: Infinity });
    let lineNo = 0;
    for await (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (line.trim() === '') continue; // blank lines carry no record: skipped, not echoed
      let out: string;
      try {
        out = JSON.stringify(scoreJsonLine(line, lineNo, source, opts.qaMetric));
        scored++;
      } catch (err) {
        if (!(opts.keepGoing && err instanceof DataError)) throw err;
        out = JSON.stringify({ error: err.message });
        failed++;
      }
      await sink.write(`${out}\n`);
    }
    sink.commit();
  } catch (err) {
    sink.abort();
    if (err instanceof DataError) throw err;
    throw new DataError(`spell score failed on ${source}: ${describeError(err)}`, {
      file: source,
    });
  }
  if (failed > 0) {
    process.stderr.write(`spell score: ${scored} lines scored, ${failed} lines with errors\n`);
  }
}

/** Register `spell score`. */
export function registerScore(program: Command): void {
  program
    .command('score')
    .description(
      'rule-score responder answers (JSONL lines {"task","response","answer"}) as the SPELL trainer does',
    )
    .option('--input <file>', 'input JSONL file (default: stdin)')
    .option('--output <file>', 'output JSONL file, written atomically (default: stdout)')
    .addOption(
      new Option('--qa-metric <metric>', 'metric for qa lines')
        .choices(CLI_QA_METRICS)
        .default('cem-strict'),
    )
    .option('--keep-going', 'write {"error": ...} for a bad line instead of stopping', false)
    .action(async (opts: ScoreCliOptions) => {
      await runScore(opts);
    });
}
