/**
 * The skip-or-throw policy shared by the readers: feed rows in, get a ReadResult out.
 * Without skipBad the first bad row throws; with it, each bad row is counted by reason.
 * Duplicate ids are bad rows too, because the history memory is keyed by cluster id.
 */
import type { Cluster, ReadOptions, ReadProblem, ReadResult, SkipReason } from '../cluster.ts';
import { RowError } from './row-error.ts';

export class RowCollector {
  readonly clusters: Cluster[] = [];
  readonly problems: ReadProblem[] = [];
  readonly skipped: Partial<Record<SkipReason, number>> = {};
  rows = 0;
  private readonly seen = new Map<string, string>();

  constructor(private readonly options: ReadOptions) {}

  /** Record a bad row, or rethrow it when skipping is off. */
  fail(err: RowError): void {
    if (!this.options.skipBad) throw err;
    this.skipped[err.reason] = (this.skipped[err.reason] ?? 0) + 1;
    this.problems.push(err.toProblem());
  }

  /** Normalise one row with `make`; RowErrors are handled by policy, anything else propagates. */
  add(make: () => Cluster, file: string, row: number): void {
    this.rows++;
    try {
      const cluster = make();
      const first = this.seen.get(cluster.id);
      if (first !== undefined) {
        throw new RowError('duplicate_id', `cluster id '${cluster.id}' already used at ${first}`, {
          file,
          row,
          field: 'id',
        });
      }
      this.seen.set(cluster.id, `${file} row ${row}`);
      this.clusters.push(cluster);
    } catch (err) {
      if (err instanceof RowError) this.fail(err);
      else throw err;
    }
  }

  result(): ReadResult {
    return {
      clusters: this.clusters,
      rows: this.rows,
      skipped: this.skipped,
      problems: this.problems,
    };
  }
}
