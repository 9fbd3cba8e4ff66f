/**
 * JSONL corpus reader: one cluster per line, either layout (see normalise.ts).
 * Blank lines are ignored; a line that is not valid JSON is a `bad_json` row.
 */
import type { ReadOptions, ReadResult } from '../cluster.ts';
import { RowCollector } from './collect.ts';
import { normaliseRecord } from './normalise.ts';
import { RowError } from './row-error.ts';
import { fileStem, readBytes } from './file.ts';

/** Read every line of a JSONL file into `collector`. */
export function readJsonlInto(file: string, collector: RowCollector): void {
  const text = Buffer.from(readBytes(file)).toString('utf8');
  const stem = fileStem(file);
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const row = i + 1;
    collector.add(
      () => {
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          throw new RowError('bad_json', `not valid JSON (${why})`, { file, row }, { cause: err });
        }
        return normaliseRecord(record, { file, row, stem });
      },
      file,
      row,
    );
  });
}

/**
 * Read a JSONL corpus file.
 * @throws DataError naming file, row (line) and column, unless `skipBad` is set.
 */
export function readJsonl(file: string, options: ReadOptions = {}): ReadResult {
  const collector = new RowCollector(options);
  readJsonlInto(file, collector);
  return collector.result();
}
