/**
 * Parquet corpus reader (hyparquet, with snappy / gzip / zstd / brotli / lz4 decompressors).
 *
 * Rows are read as plain objects and normalised like JSONL lines. hyparquet returns int64 columns
 * as BigInt; normalisation turns integer ids into decimal strings. A file hyparquet cannot decode
 * (truncated, not parquet, unknown codec) is one `corrupt_file` problem naming the file.
 */
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { ReadOptions, ReadResult } from '../cluster.ts';
import { RowCollector } from './collect.ts';
import { fileStem, readBytes } from './file.ts';
import { normaliseRecord } from './normalise.ts';
import { RowError } from './row-error.ts';

/** Read every row of a parquet file into `collector`. */
export async function readParquetInto(file: string, collector: RowCollector): Promise<void> {
  const bytes = readBytes(file);
  // hyparquet wants an ArrayBuffer of exactly the file (Buffer pools share a larger one).
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: buffer as ArrayBuffer, compressors });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    collector.fail(
      new RowError('corrupt_file', `cannot read parquet (${why})`, { file }, { cause: err }),
    );
    return;
  }
  const stem = fileStem(file);
  rows.forEach((record, i) => {
    const row = i + 1;
    collector.add(() => normaliseRecord(record, { file, row, stem }), file, row);
  });
}

/**
 * Read a parquet corpus file.
 * @throws DataError naming file, row and column, unless `skipBad` is set.
 */
export async function readParquet(file: string, options: ReadOptions = {}): Promise<ReadResult> {
  const collector = new RowCollector(options);
  await readParquetInto(file, collector);
  return collector.result();
}
