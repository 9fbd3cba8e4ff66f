/**
 * Text corpus reader: a folder of plain documents (`.txt`, `.md`, UTF-8) or one such file.
 *
 * The walk is the only part here that touches the file system; how files become units, documents
 * and clusters is in text.ts. The walk is sorted (so ids and order are deterministic), skips
 * hidden entries (`.git`, `.obsidian`), follows links but refuses a folder reached twice (a link
 * loop), and refuses a tree that also holds `.jsonl` / `.parquet` files, which would otherwise be
 * silently ignored. Per-file problems (not UTF-8, empty, too large) are row errors: a DataError
 * naming the file, or skipped and counted with `skipBad`.
 */
import { readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { DataError } from '../../core/errors.ts';
import type { Cluster, TextBounds } from '../cluster.ts';
import { RowCollector } from './collect.ts';
import { RowError } from './row-error.ts';
import {
  DEFAULT_TEXT_BOUNDS,
  TEXT_EXTENSIONS,
  decodeText,
  planUnits,
  unitClusters,
  type PlannedUnit,
} from './text.ts';

/** Text files larger than this are refused: split them (a document this size is not one). */
export const MAX_TEXT_FILE_BYTES = 16 * 1024 * 1024;

/** Extensions of record corpus files (one cluster per row). */
export const RECORD_EXTENSIONS: readonly string[] = ['.jsonl', '.parquet'];

/** Whether a name is a text document's (by extension, any case). */
export function isTextName(name: string): boolean {
  return TEXT_EXTENSIONS.includes(extname(name).toLowerCase());
}

function statFollow(path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    const what =
      code === 'ENOENT'
        ? 'a link to a file that does not exist'
        : code === 'ELOOP'
          ? 'a symlink loop'
          : `unreadable (${code})`;
    throw new DataError(`${path}: ${what}`, { file: path }, { cause: err });
  }
}

/**
 * The text files under `root`, relative and `/`-separated, in sorted depth-first order.
 * @throws DataError for a link loop, an unreadable folder, or `.jsonl` / `.parquet` files in the tree
 */
export function textFiles(root: string): string[] {
  const files: string[] = [];
  const records: string[] = [];
  const seen = new Map<string, string>();
  const visit = (dir: string, rel: string): void => {
    let real: string;
    let names: string[];
    try {
      real = realpathSync(dir);
      names = readdirSync(dir).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new DataError(
        `${dir}: cannot read the folder (${code})`,
        { file: dir },
        { cause: err },
      );
    }
    const first = seen.get(real);
    if (first !== undefined) {
      throw new DataError(
        `${dir}: leads back to ${first} (a symlink loop, or one folder linked twice)`,
        { file: dir },
      );
    }
    seen.set(real, dir);
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const ext = extname(name).toLowerCase();
      const known = isTextName(name) || RECORD_EXTENSIONS.includes(ext);
      let stats: Stats;
      try {
        stats = statFollow(path);
      } catch (err) {
        // A dangling or looping link matters only where a document or a folder could be.
        if (known || ext === '') throw err;
        continue;
      }
      if (stats.isDirectory()) visit(path, relPath);
      else if (!stats.isFile()) continue;
      else if (isTextName(name)) files.push(relPath);
      else if (RECORD_EXTENSIONS.includes(ext)) records.push(relPath);
    }
  };
  visit(root, '');
  if (records.length > 0) {
    const text = files.length > 0 ? `text documents (${files[0]}) and ` : '';
    throw new DataError(
      `${root}: holds ${text}corpus files (${records[0]}) below its top level; ` +
        `pass the corpus files or their folder, and text folders as separate paths`,
      { file: join(root, records[0]) },
    );
  }
  if (files.length === 0) {
    throw new DataError(
      `${root}: folder holds no .jsonl, .parquet, .txt or .md files (hidden entries are skipped)`,
      { file: root },
    );
  }
  return files;
}

/**
 * A text file's contents.
 * @throws RowError (too_large, not_text, empty_document) naming the file
 */
function readText(file: string): string {
  const size = statFollow(file).size;
  if (size > MAX_TEXT_FILE_BYTES) {
    throw new RowError(
      'too_large',
      `${size} bytes, over the ${MAX_TEXT_FILE_BYTES / 1024 / 1024} MiB limit of a text file; split it into smaller files`,
      { file },
    );
  }
  const decoded = decodeText(readFileSync(file));
  if ('problem' in decoded) throw new RowError('not_text', decoded.problem, { file });
  if (decoded.text.trim() === '') {
    throw new RowError('empty_document', 'the file is empty (or only whitespace)', { file });
  }
  return decoded.text;
}

/** Read one unit's files and add its clusters; a bad file is thrown or skipped by policy. */
function readUnit(
  dir: string,
  planned: PlannedUnit,
  collector: RowCollector,
  opts: TextBounds,
): void {
  const texts: string[] = [];
  for (const rel of planned.files) {
    const file = join(dir, rel);
    try {
      texts.push(readText(file));
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      collector.rows++;
      collector.fail(err);
    }
  }
  if (texts.length === 0) return;
  const where = planned.files.length === 1 ? join(dir, planned.files[0]) : dir;
  unitClusters(planned.unit, texts, opts).forEach((cluster: Cluster, i) => {
    collector.add(() => cluster, where, i + 1);
  });
}

/**
 * Read a text folder (or one text file) into `collector`.
 * @throws DataError for the folder's structure (see textFiles); bad files by the collector's policy
 */
export function readTextInto(
  path: string,
  collector: RowCollector,
  bounds: TextBounds = DEFAULT_TEXT_BOUNDS,
): void {
  if (statFollow(path).isDirectory()) {
    const name = basename(resolve(path));
    for (const planned of planUnits(name, textFiles(path))) {
      readUnit(path, planned, collector, bounds);
    }
    return;
  }
  const name = basename(path);
  const unit = { id: name, source: `text/${name}` };
  readUnit(dirname(path), { unit, files: [name] }, collector, bounds);
}
