/**
 * Read a corpus from files and folders: `.jsonl` and `.parquet`, one shared duplicate-id check.
 *
 * A folder holding `train.jsonl` or `train.parquet` reads just those (so a generated corpus
 * folder, whose `eval.jsonl` holds questions, reads as its training clusters); any other folder
 * reads every `.jsonl` / `.parquet` file directly inside it, in name order.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { DataError } from '../../core/errors.ts';
import type { ReadOptions, ReadResult } from '../cluster.ts';
import { RowCollector } from './collect.ts';
import { readJsonlInto } from './jsonl.ts';
import { readParquetInto } from './parquet.ts';

const EXTENSIONS = new Set(['.jsonl', '.parquet']);

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

/**
 * The corpus files a path stands for.
 * @throws DataError for a missing path, an unknown extension, or a folder with no corpus files.
 */
export function corpusFiles(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new DataError(`${path}: no such file or folder`, { file: path }, { cause: err });
  }
  if (!isDir) {
    if (!EXTENSIONS.has(extname(path))) {
      throw new DataError(`${path}: expected a .jsonl or .parquet file`, { file: path });
    }
    return [path];
  }
  const names = readdirSync(path).sort();
  const train = names.filter((n) => n === 'train.jsonl' || n === 'train.parquet');
  const chosen = train.length > 0 ? train : names.filter((n) => EXTENSIONS.has(extname(n)));
  const files = chosen.map((n) => join(path, n)).filter((f) => isRegularFile(f));
  if (files.length === 0) {
    throw new DataError(`${path}: folder holds no .jsonl or .parquet files`, { file: path });
  }
  return files;
}

/**
 * Read every cluster under the given paths (files or folders).
 * @throws DataError naming file, row and column at the first bad row, unless `skipBad` is set.
 * @example
 * const { clusters, skipped } = await readCorpus(['corpus/'], { skipBad: true });
 */
export async function readCorpus(
  paths: readonly string[],
  options: ReadOptions = {},
): Promise<ReadResult> {
  const collector = new RowCollector(options);
  for (const path of paths) {
    for (const file of corpusFiles(path)) {
      if (extname(file) === '.parquet') await readParquetInto(file, collector);
      else readJsonlInto(file, collector);
    }
  }
  return collector.result();
}
