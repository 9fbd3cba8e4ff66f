/**
 * The results file of a run: one JSON line per finished sample, appended as results arrive so an
 * interrupted run loses nothing, read back on `--resume` (later lines for the same key supersede
 * earlier ones, e.g. a re-judged sample), and compacted at the end of a run into one line per
 * sample in evaluation order, written atomically.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../core/atomic.ts';
import { DataError } from '../core/errors.ts';
import { sampleKey, sampleRecordSchema, type SampleRecord } from './record.ts';

/** What reading a results file found. */
export interface LoadedResults {
  readonly records: Map<string, SampleRecord>;
  /** True when the last line was cut off mid-write (an interrupted run); it is ignored. */
  readonly droppedPartialLine: boolean;
}

/**
 * Read a results file (missing → empty).
 * @throws DataError naming file and line for a malformed line other than a cut-off last line
 */
export function loadResults(file: string): LoadedResults {
  const records = new Map<string, SampleRecord>();
  if (!existsSync(file)) return { records, droppedPartialLine: false };
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  let droppedPartialLine = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const isLast = i === lines.length - 1; // a complete file ends in "\n", so this is a partial line
    let json: unknown;
    try {
      json = JSON.parse(line) as unknown;
    } catch {
      if (isLast) {
        droppedPartialLine = true;
        continue;
      }
      throw new DataError(`${file} line ${i + 1}: not valid JSON`, { file, row: i + 1 });
    }
    const parsed = sampleRecordSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.join('.');
      throw new DataError(`${file} line ${i + 1}: field "${field}": ${issue.message}`, {
        file,
        row: i + 1,
        field,
      });
    }
    const r = parsed.data;
    records.set(sampleKey(r.task, r.id, r.sample), r);
  }
  return { records, droppedPartialLine };
}

/** Appends records to a results file, one line each. */
export class ResultsWriter {
  constructor(readonly file: string) {}

  /** Start a fresh line if a previous run was cut off mid-line. */
  repairTail(): void {
    if (!existsSync(this.file)) return;
    const text = readFileSync(this.file, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) {
      // Drop the partial last line so the file is valid JSONL again.
      writeFileAtomic(this.file, text.slice(0, text.lastIndexOf('\n') + 1));
    }
  }

  append(record: SampleRecord): void {
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }

  /** Rewrite the file atomically with exactly `records`, in the given order. */
  compact(records: readonly SampleRecord[]): void {
    writeFileAtomic(this.file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}
