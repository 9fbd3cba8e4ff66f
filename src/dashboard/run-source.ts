/**
 * One run directory as the dashboard sees it, followed incrementally: metrics.jsonl is read from
 * the byte offset reached last time (a shorter or replaced file — a resume truncates it — is read
 * again from the start), and rollouts/step-*.jsonl files are indexed when they appear or change.
 * Step indexes live in a small LRU (re-built on demand), so memory does not grow with the length
 * of the run; only per-step facet counts and the numeric metrics stay resident.
 */
import { existsSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { facet } from './query.ts';
import { indexStepFile, type StepIndex } from './rollout-index.ts';

/** One metrics line, numeric fields only (`step` included). */
export type MetricsRow = Record<string, number>;

/** What changed in a run since the previous refresh. */
export interface RunChanges {
  /** metrics.jsonl was replaced or truncated: `rows` is the whole file again. */
  readonly reset: boolean;
  readonly rows: readonly MetricsRow[];
  /** Step files that appeared or changed. */
  readonly steps: readonly number[];
}

/** Per-step counts kept for every step even when its index is evicted. */
export interface StepSummary {
  readonly samples: number;
  readonly roles: Record<string, number>;
  readonly tasks: Record<string, number>;
  readonly labels: Record<string, number>;
}

export interface Facets {
  readonly roles: Record<string, number>;
  readonly tasks: Record<string, number>;
  readonly labels: Record<string, number>;
}

interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

const STEP_FILE = /^step-(\d+)\.jsonl$/;
const METRICS_CHUNK = 1 << 20;

function numericRow(parsed: unknown): MetricsRow | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const row: MetricsRow = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v === 'number' && Number.isFinite(v)) row[k] = v;
  }
  return typeof row.step === 'number' ? row : undefined;
}

export class RunSource {
  readonly name: string;
  readonly metrics: MetricsRow[] = [];
  readonly metricKeys = new Set<string>();
  private metricsOffset = 0;
  private metricsIno = -1;
  private metricsTail: Buffer = Buffer.alloc(0);
  private readonly stamps = new Map<number, FileStamp>();
  private readonly summaries = new Map<number, StepSummary>();
  /** Most recently used last. */
  private readonly indexes = new Map<number, Promise<StepIndex>>();

  constructor(
    readonly id: number,
    readonly root: string,
    private readonly maxIndexedSteps = 256,
  ) {
    this.name = basename(root);
  }

  get metricsPath(): string {
    return join(this.root, 'metrics.jsonl');
  }

  stepPath(step: number): string {
    return join(this.root, 'rollouts', `step-${String(step).padStart(6, '0')}.jsonl`);
  }

  /** Steps that have a rollout file, ascending. */
  steps(): number[] {
    return [...this.stamps.keys()].sort((a, b) => a - b);
  }

  summary(step: number): StepSummary | undefined {
    return this.summaries.get(step);
  }

  /** Sample counts per role, task and label over every step summarised so far. */
  facets(): Facets {
    const sum = (field: 'roles' | 'tasks' | 'labels'): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const s of this.summaries.values())
        for (const [k, n] of Object.entries(s[field])) out[k] = (out[k] ?? 0) + n;
      return Object.fromEntries(Object.entries(out).sort((a, b) => a[0].localeCompare(b[0])));
    };
    return { roles: sum('roles'), tasks: sum('tasks'), labels: sum('labels') };
  }

  /** Read what is new in metrics.jsonl and which step files appeared or changed (no indexing). */
  async refresh(): Promise<RunChanges> {
    const { reset, rows } = await this.readMetrics();
    const steps = await this.scanRollouts();
    return { reset, rows, steps };
  }

  /**
   * Index the step files that have no summary yet (new or changed ones), newest first, one file
   * at a time, so the facets cover the whole run. Returns how many were summarised.
   */
  async summarisePending(): Promise<number> {
    let n = 0;
    for (const step of this.steps().reverse()) {
      if (this.summaries.has(step)) continue;
      await this.index(step);
      n += 1;
    }
    return n;
  }

  /** The index of one step (built on first use, kept in an LRU). */
  async index(step: number): Promise<StepIndex | undefined> {
    if (!this.stamps.has(step)) return undefined;
    let p = this.indexes.get(step);
    if (p === undefined) {
      p = indexStepFile(this.stepPath(step), step).then((idx) => {
        this.summaries.set(step, {
          samples: idx.entries.length,
          roles: facet(idx.entries, 'role'),
          tasks: facet(idx.entries, 'task'),
          labels: facet(idx.entries, 'label'),
        });
        return idx;
      });
      p.catch(() => this.indexes.delete(step));
    } else {
      this.indexes.delete(step);
    }
    this.indexes.set(step, p);
    while (this.indexes.size > this.maxIndexedSteps) {
      const oldest = this.indexes.keys().next().value;
      if (oldest === undefined) break;
      this.indexes.delete(oldest);
    }
    return p;
  }

  private async readMetrics(): Promise<{ reset: boolean; rows: MetricsRow[] }> {
    if (!existsSync(this.metricsPath)) return { reset: false, rows: [] };
    const st = await stat(this.metricsPath);
    let reset = false;
    if (st.ino !== this.metricsIno && this.metricsIno !== -1) reset = true;
    if (st.size < this.metricsOffset) reset = true;
    if (reset) {
      this.metrics.length = 0;
      this.metricsOffset = 0;
      this.metricsTail = Buffer.alloc(0);
    }
    this.metricsIno = st.ino;
    const rows: MetricsRow[] = [];
    if (st.size === this.metricsOffset) return { reset, rows };
    const fh = await open(this.metricsPath, 'r');
    try {
      const chunk = Buffer.alloc(METRICS_CHUNK);
      while (this.metricsOffset < st.size) {
        const want = Math.min(METRICS_CHUNK, st.size - this.metricsOffset);
        const { bytesRead } = await fh.read(chunk, 0, want, this.metricsOffset);
        if (bytesRead === 0) break;
        this.metricsOffset += bytesRead;
        const data = Buffer.concat([this.metricsTail, chunk.subarray(0, bytesRead)]);
        let start = 0;
        for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
          const text = data.subarray(start, nl).toString('utf8');
          start = nl + 1;
          if (text.trim() === '') continue;
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            continue; // a torn line carries no complete step
          }
          const row = numericRow(parsed);
          if (row !== undefined) rows.push(row);
        }
        // an incomplete last line waits for its newline
        this.metricsTail = Buffer.from(data.subarray(start));
      }
    } finally {
      await fh.close();
    }
    for (const r of rows) {
      this.metrics.push(r);
      for (const k of Object.keys(r)) this.metricKeys.add(k);
    }
    return { reset, rows: reset ? this.metrics : rows };
  }

  private async scanRollouts(): Promise<number[]> {
    const dir = join(this.root, 'rollouts');
    if (!existsSync(dir)) return [];
    const changed: number[] = [];
    const seen = new Set<number>();
    for (const name of await readdir(dir)) {
      const m = STEP_FILE.exec(name);
      if (m?.[1] === undefined) continue;
      const step = Number(m[1]);
      seen.add(step);
      let st;
      try {
        st = await stat(join(dir, name));
      } catch {
        continue; // replaced between readdir and stat; the next refresh sees the new one
      }
      const old = this.stamps.get(step);
      if (old?.size === st.size && old.mtimeMs === st.mtimeMs && old.ino === st.ino) continue;
      this.stamps.set(step, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
      this.indexes.delete(step);
      this.summaries.delete(step);
      changed.push(step);
    }
    for (const step of [...this.stamps.keys()]) {
      if (!seen.has(step)) {
        this.stamps.delete(step);
        this.summaries.delete(step);
        this.indexes.delete(step);
      }
    }
    return changed.sort((a, b) => a - b);
  }
}
