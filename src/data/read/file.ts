/** Small file helpers shared by the readers: existence checks with clear errors, file stems. */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { DataError } from '../../core/errors.ts';

/** File name without directory and extension (`data/docmath.jsonl` → `docmath`). */
export function fileStem(file: string): string {
  return basename(file, extname(file));
}

/**
 * Read a whole file.
 * @throws DataError when it does not exist or is not a regular file.
 */
export function readBytes(file: string): Uint8Array {
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch (err) {
    throw new DataError(`${file}: no such file`, { file }, { cause: err });
  }
  if (!isFile) throw new DataError(`${file}: not a regular file`, { file });
  return readFileSync(file);
}
