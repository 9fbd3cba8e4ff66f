/**
 * A bad row, as a typed error the readers either throw (as DataError) or record (with skipBad).
 * Kept separate so normalisation can stay a pure function that throws one precise thing.
 */
import { DataError } from '../../core/errors.ts';
import type { ReadProblem, SkipReason } from '../cluster.ts';

/** A DataError that also carries the skip reason it would be counted under. */
export class RowError extends DataError {
  constructor(
    readonly reason: SkipReason,
    message: string,
    location: { file: string; row?: number; field?: string },
    options?: { cause?: unknown },
  ) {
    const where = [
      location.file,
      location.row === undefined ? undefined : `row ${location.row}`,
      location.field === undefined ? undefined : `column '${location.field}'`,
    ]
      .filter((p) => p !== undefined)
      .join(', ');
    super(`${where}: ${message}`, location, options);
    // Users see a DataError; the subclass only carries the skip reason.
    this.name = 'DataError';
  }

  /** The problem record kept when the row is skipped. */
  toProblem(): ReadProblem {
    return {
      reason: this.reason,
      file: this.location.file ?? '',
      ...(this.location.row === undefined ? {} : { row: this.location.row }),
      ...(this.location.field === undefined ? {} : { field: this.location.field }),
      message: this.message,
    };
  }
}
