/**
 * Parquet corpus reader (hyparquet, with snappy / gzip / zstd / brotli / lz4 decompressors).
 *
 * Rows are read as plain objects and normalised like JSONL lines. hyparquet returns int64 columns
 * as BigInt; normalisation turns integer ids into decimal strings. A file hyparquet cannot decode
 * (truncated, not parquet, unknown codec) is one `corrupt_file` problem naming the file.
 *
 * hyparquet starts reading column chunks one after another and, if planning a later chunk throws
 * (a chunk whose path names no schema leaf), never awaits the chunks already started: their
 * rejections surface as unhandled rejections that take the process down. So the metadata is
 * parsed first and every chunk's path checked against the schema before any read starts.
 */
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { FileMetaData, SchemaTree } from 'hyparquet';
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
    const metadata = parquetMetadata(buffer as ArrayBuffer);
    checkColumnPaths(metadata);
    rows = await parquetReadObjects({ file: buffer as ArrayBuffer, metadata, compressors });
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

/** Every column chunk must name a distinct leaf of the schema (see the header comment). */
function checkColumnPaths(metadata: FileMetaData): void {
  const leaves = new Set<string>();
  const walk = (node: SchemaTree): void => {
    if (node.children.length === 0) leaves.add(JSON.stringify(node.path));
    node.children.forEach(walk);
  };
  walk(parquetSchema(metadata));
  metadata.row_groups.forEach((group, g) => {
    const seen = new Set<string>();
    for (const chunk of group.columns) {
      const path = chunk.meta_data?.path_in_schema;
      const key = JSON.stringify(path);
      if (!path || !leaves.has(key) || seen.has(key)) {
        throw new Error(
          `row group ${g}: column chunk ${path ? path.join('.') : '(no metadata)'} is not a schema column`,
        );
      }
      seen.add(key);
    }
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
