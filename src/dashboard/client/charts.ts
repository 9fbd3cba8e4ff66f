/**
 * The live charts: the report's chart specs drawn with uPlot, one line per run and series, on a
 * step or elapsed-time axis, with EMA smoothing and task/role/run toggles. A click on a chart
 * picks the nearest step and hands it to the rollout browser.
 */
import uPlot from 'uplot';
import {
  discoverGroups,
  expandSeries,
  type ChartSpec,
  type ExpandedSeries,
} from '../../report/chart-specs.ts';
import type { MetricsRow, RunInfo } from './api.ts';

export interface ChartView {
  axis: 'step' | 'time';
  /** EMA weight of the previous smoothed value, 0 = raw. */
  smooth: number;
  hiddenTasks: Set<string>;
  hiddenRoles: Set<string>;
  hiddenRuns: Set<number>;
}

export const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];
export const DASHES: number[][] = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
const STEP_INCREMENTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000];

interface Line {
  readonly run: RunInfo;
  readonly series: ExpandedSeries;
  readonly color: string;
}

interface Drawn {
  plot: uPlot;
  shape: string;
  /** For each x index, the run and step a click there opens. */
  picks: { run: number; step: number }[];
}

/** Exponential moving average over the present values (missing ones stay missing). */
export function ema(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let acc: number | undefined;
  return values.map((v) => {
    if (v === null) return null;
    acc = acc === undefined ? v : weight * acc + (1 - weight) * v;
    return acc;
  });
}

/** The x value of each metrics row: the step, or seconds since the run began (summed step times). */
function xsOf(rows: readonly MetricsRow[], axis: 'step' | 'time'): number[] {
  let t = 0;
  return rows.map((r) => {
    if (axis === 'step') return r.step ?? 0;
    t += r['timing_s/step'] ?? 0;
    return Number(t.toFixed(3));
  });
}

/** Every metric key the charts can show for these runs (what to ask the server for). */
export function chartKeys(specs: readonly ChartSpec[], runs: readonly RunInfo[]): string[] {
  const groups = discoverGroups(runs.flatMap((r) => r.metricKeys));
  const keys = new Set(['step', 'timing_s/step']);
  for (const s of specs) for (const e of expandSeries(s, groups)) keys.add(e.key);
  return [...keys];
}

export class ChartBoard {
  private readonly drawn = new Map<string, Drawn>();

  constructor(
    private readonly container: HTMLElement,
    private readonly specs: readonly ChartSpec[],
    private readonly onPick: (run: number, step: number) => void,
  ) {}

  /** The tasks and roles the toggles offer: those any run logged. */
  groups(runs: readonly RunInfo[]): { tasks: string[]; roles: string[] } {
    return discoverGroups(runs.flatMap((r) => r.metricKeys));
  }

  render(
    runs: readonly RunInfo[],
    metrics: ReadonlyMap<number, MetricsRow[]>,
    view: ChartView,
  ): void {
    const groups = this.groups(runs);
    const visibleRuns = runs.filter((r) => !view.hiddenRuns.has(r.id));
    for (const spec of this.specs) {
      const series = expandSeries(spec, groups).filter(
        (s) =>
          (s.task === undefined || !view.hiddenTasks.has(s.task)) &&
          (s.role === undefined || !view.hiddenRoles.has(s.role)),
      );
      const lines: Line[] = [];
      for (const run of visibleRuns)
        series.forEach((s, i) =>
          lines.push({ run, series: s, color: COLORS[i % COLORS.length] ?? '#333' }),
        );
      this.draw(spec, lines, metrics, view, runs.length > 1);
    }
  }

  private draw(
    spec: ChartSpec,
    lines: readonly Line[],
    metrics: ReadonlyMap<number, MetricsRow[]>,
    view: ChartView,
    manyRuns: boolean,
  ): void {
    // union of x values over the runs shown, each line aligned to it (gaps as null)
    const xsByRun = new Map<number, number[]>();
    const picks = new Map<number, { run: number; step: number }>();
    for (const l of lines) {
      if (xsByRun.has(l.run.id)) continue;
      const rows = metrics.get(l.run.id) ?? [];
      const xs = xsOf(rows, view.axis);
      xsByRun.set(l.run.id, xs);
      xs.forEach((x, i) => {
        if (!picks.has(x)) picks.set(x, { run: l.run.id, step: rows[i]?.step ?? 0 });
      });
    }
    const xAll = [...picks.keys()].sort((a, b) => a - b);
    const at = new Map(xAll.map((x, i) => [x, i]));
    const ys = lines.map((l) => {
      const rows = metrics.get(l.run.id) ?? [];
      const xs = xsByRun.get(l.run.id) ?? [];
      const raw = rows.map((r) => r[l.series.key] ?? null);
      const smooth = ema(raw, view.smooth);
      const out: (number | null)[] = new Array<number | null>(xAll.length).fill(null);
      smooth.forEach((v, i) => {
        const j = at.get(xs[i] ?? NaN);
        if (j !== undefined) out[j] = v;
      });
      return out;
    });
    const data: uPlot.AlignedData = [xAll, ...ys];
    const shape = JSON.stringify([view.axis, lines.map((l) => [l.run.id, l.series.key])]);
    let d = this.drawn.get(spec.id);
    if (d !== undefined && d.shape === shape) {
      d.plot.setData(data);
    } else {
      d?.plot.destroy();
      const box = this.boxFor(spec);
      const plotHost = box.querySelector<HTMLElement>('.plot') ?? box;
      const runIndex = new Map<number, number>();
      for (const l of lines) if (!runIndex.has(l.run.id)) runIndex.set(l.run.id, runIndex.size);
      const opts: uPlot.Options = {
        width: 400,
        height: 220,
        scales: { x: { time: false } },
        axes: [
          {
            label: view.axis === 'step' ? 'step' : 'time (s)',
            // steps are whole numbers: no 2.5 ticks
            ...(view.axis === 'step' ? { incrs: STEP_INCREMENTS } : {}),
          },
          {},
        ],
        // a click opens the step's rollouts, so dragging does not zoom (a drag would end in a click)
        cursor: { drag: { x: false, y: false } },
        series: [
          { label: view.axis },
          ...lines.map((l) => ({
            label: manyRuns ? `${l.run.name} · ${l.series.name}` : l.series.name,
            stroke: l.color,
            width: 1.6,
            dash: DASHES[(runIndex.get(l.run.id) ?? 0) % DASHES.length] ?? [],
            spanGaps: true,
            points: { show: xAll.length < 60 },
          })),
        ],
      };
      const plot = new uPlot(opts, data, plotHost);
      d = { plot, shape, picks: [] };
      const drawn = d;
      plot.over.addEventListener('click', () => {
        const idx = plot.cursor.idx;
        if (idx === null || idx === undefined) return;
        const pick = drawn.picks[idx];
        if (pick !== undefined) this.onPick(pick.run, pick.step);
      });
      this.drawn.set(spec.id, d);
    }
    d.picks = xAll.map((x) => picks.get(x) ?? { run: 0, step: 0 });
    const box = this.boxFor(spec);
    box.dataset.points = String(xAll.length);
    box.dataset.lastStep = String(d.picks[d.picks.length - 1]?.step ?? '');
  }

  private boxFor(spec: ChartSpec): HTMLElement {
    let box = this.container.querySelector<HTMLElement>(`.chart[data-id="${spec.id}"]`);
    if (box === null) {
      box = document.createElement('figure');
      box.className = 'chart';
      box.dataset.id = spec.id;
      const h = document.createElement('h2');
      h.textContent = spec.title;
      const plot = document.createElement('div');
      plot.className = 'plot';
      box.append(h, plot);
      this.container.append(box);
    }
    return box;
  }
}
