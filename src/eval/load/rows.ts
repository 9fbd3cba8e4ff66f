/**
 * Raw record reading for benchmark files as publishers distribute them: JSON arrays (`data.json`),
 * JSON Lines, and parquet (Hugging Face dataset snapshots). Also the small file finder the loaders
 * use to locate a publisher's files inside a data folder, and typed field accessors whose errors
 * name the task, file, row and field.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DataError, describeError } from '../../core/errors.ts';

/** One raw record with where it came from (row is 1-based). */
export interface RawRow {
  readonly file: string;
  readonly row: number;
  readonly value: Record<string, unknown>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Read every record of a `.json` (an array of objects), `.jsonl` or `.parquet` file.
 * @throws DataError naming the task, file and row on unreadable files or non-object records
 */
export async function readRows(task: string, file: string): Promise<RawRow[]> {
  const ext = extname(file).toLowerCase();
  const fail = (msg: string, row?: number, cause?: unknown): DataError =>
    new DataError(
      `${task}: ${file}${row === undefined ? '' : ` row ${row}`}: ${msg}`,
      { file, ...(row === undefined ? {} : { row }) },
      cause === undefined ? undefined : { cause },
    );
  let values: unknown[];
  if (ext === '.parquet') {
    const bytes = readFileSync(file);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    try {
      values = await parquetReadObjects({ file: buffer, compressors });
    } catch (err) {
      throw fail(`cannot read parquet (${describeError(err)})`, undefined, err);
    }
  } else if (ext === '.jsonl') {
    values = [];
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === '') continue;
      try {
        values.push(JSON.parse(lines[i]) as unknown);
      } catch (err) {
        throw fail(`line is not valid JSON (${describeError(err)})`, i + 1, err);
      }
    }
  } else if (ext === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    } catch (err) {
      throw fail(`not valid JSON (${describeError(err)})`, undefined, err);
    }
    if (!Array.isArray(parsed)) throw fail('expected a JSON array of records');
    values = parsed;
  } else {
    throw fail(`unsupported file type "${ext}" (expected .json, .jsonl or .parquet)`);
  }
  return values.map((value, i) => {
    if (!isRecord(value)) throw fail('record is not an object', i + 1);
    return { file, row: i + 1, value };
  });
}

/**
 * Files under `dir` (searched to `depth` levels) whose path relative to `dir` matches `pattern`,
 * sorted by path so multi-shard parquet files load in order.
 */
export function findFiles(dir: string, pattern: RegExp, depth = 3): string[] {
  const found: string[] = [];
  const walk = (abs: string, rel: string, level: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(abs).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      if (name.startsWith('.')) continue;
      const a = join(abs, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      let isDir = false;
      try {
        isDir = statSync(a).isDirectory();
      } catch {
        continue;
      }
      if (isDir) {
        if (level < depth) walk(a, r, level + 1);
      } else if (pattern.test(r)) {
        found.push(a);
      }
    }
  };
  if (existsSync(dir)) walk(dir, '', 1);
  return found;
}

/** Typed field access for one raw row; errors name task, file, row, field and what was expected. */
export class RowReader {
  constructor(
    private readonly task: string,
    private readonly raw: RawRow,
  ) {}

  error(field: string, expected: string, got: unknown): DataError {
    return new DataError(
      `${this.task}: ${this.raw.file} row ${this.raw.row}: field "${field}" ${expected}, got ${describe(got)}`,
      { file: this.raw.file, row: this.raw.row, field },
    );
  }

  string(field: string): string {
    const v = this.raw.value[field];
    if (typeof v !== 'string') throw this.error(field, 'must be a string', v);
    return v;
  }

  stringList(field: string): string[] {
    const v = this.raw.value[field];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw this.error(field, 'must be a list of strings', v);
    }
    return v;
  }

  /** A list of objects; a JSON string holding such a list is accepted too (some exports do that). */
  objectList(field: string): Record<string, unknown>[] {
    let v = this.raw.value[field];
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v) as unknown;
      } catch {
        throw this.error(field, 'must be a list of objects', v);
      }
    }
    if (!Array.isArray(v) || !v.every(isRecord)) {
      throw this.error(field, 'must be a list of objects', v);
    }
    return v;
  }

  /** A finite number; numeric strings and BigInts (parquet int64) are converted. */
  number(field: string): number {
    const v = this.raw.value[field];
    const n =
      typeof v === 'number'
        ? v
        : typeof v === 'bigint'
          ? Number(v)
          : typeof v === 'string' && v.trim() !== ''
            ? Number(v)
            : NaN;
    if (!Number.isFinite(n)) throw this.error(field, 'must be a number', v);
    return n;
  }

  /** An id that may be stored as a string or an integer. */
  id(field: string): string {
    const v = this.raw.value[field];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    throw this.error(field, 'must be a non-empty string id', v);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') {
    return `${typeof v} ${v}`;
  }
  return `a ${typeof v}`;
}
