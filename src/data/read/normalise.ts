/**
 * Turn one raw record (a parsed JSONL line or a parquet row object) into a Cluster.
 *
 * Two layouts are accepted, detected per row:
 * - reference: `data_source` (string), `paragraphs` (string list), `question_id`, `extra_info`
 *   (only `extra_info.index` is read, as a fallback id);
 * - simple: `id`, `documents` (string list), optional `task` and `source`.
 * When no id is present the id is `<file stem>:<row>`, stable for an unchanged file. A simple row
 * without `source` takes the file stem as its source, so `docmath.jsonl` routes like `docmath`.
 */
import { parseTask } from '../../spell/task.ts';
import type { Cluster } from '../cluster.ts';
import { RowError } from './row-error.ts';

/** Where a record came from, for error messages and fallback ids. */
export interface RowPlace {
  readonly file: string;
  /** 1-based row number. */
  readonly row: number;
  /** File name without directory and extension. */
  readonly stem: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'bigint') return `the integer ${value}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `a ${typeof value}`;
}

/** An id value as text: strings as is, integers (number or BigInt, as parquet int64) in decimal. */
function idText(value: unknown, field: string, place: RowPlace): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  throw new RowError(
    'wrong_type',
    `expected a non-empty string or an integer id, found ${describe(value)}`,
    { file: place.file, row: place.row, field },
  );
}

function documentsOf(value: unknown, field: string, place: RowPlace): string[] {
  const at = { file: place.file, row: place.row, field };
  if (value === undefined || value === null) {
    throw new RowError('missing_column', `missing the document list '${field}'`, at);
  }
  // Parquet readers may hand back typed or array-like lists; only real arrays are accepted.
  if (!Array.isArray(value)) {
    throw new RowError('wrong_type', `expected a list of strings, found ${describe(value)}`, at);
  }
  if (value.length === 0) throw new RowError('empty_cluster', 'the cluster has no documents', at);
  const docs: string[] = [];
  value.forEach((doc: unknown, i) => {
    const docAt = { ...at, field: `${field}[${i}]` };
    if (typeof doc !== 'string') {
      throw new RowError('wrong_type', `expected a string document, found ${describe(doc)}`, docAt);
    }
    if (doc.trim() === '') throw new RowError('empty_document', 'the document is empty', docAt);
    docs.push(doc);
  });
  return docs;
}

function optionalString(record: Record<string, unknown>, field: string, place: RowPlace) {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RowError('wrong_type', `expected a non-empty string, found ${describe(value)}`, {
      file: place.file,
      row: place.row,
      field,
    });
  }
  return value;
}

/**
 * Normalise one record to a Cluster.
 * @throws RowError (a DataError) naming file, row and column, with the skip reason.
 */
export function normaliseRecord(record: unknown, place: RowPlace): Cluster {
  if (!isRecord(record)) {
    throw new RowError('wrong_type', `expected an object per row, found ${describe(record)}`, {
      file: place.file,
      row: place.row,
    });
  }
  const fallbackId = `${place.stem}:${place.row}`;
  if ('paragraphs' in record) {
    const source = optionalString(record, 'data_source', place);
    if (source === undefined) {
      throw new RowError('missing_column', "missing 'data_source' (reference layout)", {
        file: place.file,
        row: place.row,
        field: 'data_source',
      });
    }
    const documents = documentsOf(record.paragraphs, 'paragraphs', place);
    const extra = record.extra_info;
    const extraIndex = isRecord(extra) ? idText(extra.index, 'extra_info.index', place) : undefined;
    const id = idText(record.question_id, 'question_id', place) ?? extraIndex ?? fallbackId;
    return { id, source, documents };
  }
  if ('documents' in record) {
    const documents = documentsOf(record.documents, 'documents', place);
    const id = idText(record.id, 'id', place) ?? fallbackId;
    const source = optionalString(record, 'source', place) ?? place.stem;
    const taskName = optionalString(record, 'task', place);
    if (taskName === undefined) return { id, source, documents };
    const task = parseTask(taskName);
    if (task === undefined) {
      throw new RowError(
        'wrong_type',
        `unknown task ${JSON.stringify(taskName)}; expected docmath, qa or mc (or docmath_qa, doc_general_qa, doc_mc)`,
        { file: place.file, row: place.row, field: 'task' },
      );
    }
    return { id, source, task, documents };
  }
  const columns = Object.keys(record).slice(0, 8).join(', ') || '(none)';
  throw new RowError(
    'missing_column',
    `no document list: expected 'documents' (simple layout) or 'paragraphs' (reference layout); columns found: ${columns}`,
    { file: place.file, row: place.row, field: 'documents' },
  );
}
