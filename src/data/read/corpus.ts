/**
 * Read a corpus from files and folders: record files (`.jsonl`, `.parquet`: one cluster per row)
 * and plain-text documents (`.txt`, `.md`: see text-folder.ts), one shared duplicate-id check.
 *
 * A folder holding `train.jsonl` or `train.parquet` reads just those (so a generated corpus
 * folder, whose `eval.jsonl` holds questions, reads as its training clusters); a folder with
 * other `.jsonl` / `.parquet` files directly inside reads all of them, in name order; any other
 * folder is a text corpus. A folder with both record files and text documents at its top is
 * refused rather than guessed at.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { DataError } from '../../core/errors.ts';
import type { ReadOptions, ReadResult } from '../cluster.ts';
import { RowCollector } from './collect.ts';
import { readJsonlInto } from './jsonl.ts';
import { readParquetInto } from './parquet.ts';
import { RECORD_EXTENSIONS, isTextName, readTextInto } from './text-folder.ts';

/** One thing to read: a record file, or a text folder / file. */
export interface CorpusInput {
  readonly kind: 'records' | 'text';
  readonly path: string;
}

/**
 * Whether a folder entry is a regular file (links followed).
 * @throws DataError for a dangling link or an entry that cannot be examined
 */
function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    const what =
      code === 'ENOENT' ? 'a link to a file that does not exist' : `unreadable (${code})`;
    throw new DataError(`${file}: ${what}`, { file }, { cause: err });
  }
}

const isRecordName = (name: string): boolean => RECORD_EXTENSIONS.includes(extname(name));

/**
 * What a path stands for: its record files, or itself as a text corpus.
 * @throws DataError for a missing path, an unknown extension, or a folder mixing both kinds.
 */
export function corpusInputs(path: string): CorpusInput[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new DataError(`${path}: no such file or folder`, { file: path }, { cause: err });
  }
  if (!isDir) {
    if (isRecordName(path)) return [{ kind: 'records', path }];
    if (isTextName(path)) return [{ kind: 'text', path }];
    throw new DataError(`${path}: expected a .jsonl, .parquet, .txt or .md file, or a folder`, {
      file: path,
    });
  }
  const names = readdirSync(path).sort();
  const train = names.filter((n) => n === 'train.jsonl' || n === 'train.parquet');
  const chosen = train.length > 0 ? train : names.filter(isRecordName);
  const files = chosen.map((n) => join(path, n)).filter((f) => isRegularFile(f));
  if (files.length === 0) return [{ kind: 'text', path }];
  const text =
    train.length > 0 ? undefined : names.find((n) => isTextName(n) && !n.startsWith('.'));
  if (text !== undefined) {
    throw new DataError(
      `${path}: mixes corpus files (${chosen[0]}) and text documents (${text}); ` +
        'pass the corpus files themselves, or keep text documents in a folder of their own',
      { file: join(path, text) },
    );
  }
  return files.map((f) => ({ kind: 'records', path: f }));
}

/**
 * Read every cluster under the given paths (files or folders).
 * @throws DataError naming file, row and column at the first bad row, unless `skipBad` is set.
 * @example
 * const { clusters, skipped } = await readCorpus(['corpus/', 'my-docs/'], { skipBad: true });
 */
export async function readCorpus(
  paths: readonly string[],
  options: ReadOptions = {},
): Promise<ReadResult> {
  const collector = new RowCollector(options);
  for (const path of paths) {
    for (const input of corpusInputs(path)) {
      if (input.kind === 'text') readTextInto(input.path, collector, options.text);
      else if (extname(input.path) === '.parquet') await readParquetInto(input.path, collector);
      else readJsonlInto(input.path, collector);
    }
  }
  return collector.result();
}
