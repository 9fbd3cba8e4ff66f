/**
 * `spell report RUN_DIR`: a single self-contained report.html of a training run (static SVG
 * charts, no scripts or network), from metrics.jsonl and config.yaml.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/atomic.ts';
import { CHART_SPECS, discoverGroups, expandSeries } from './chart-specs.ts';
import { lineChart, type Series } from './svg-chart.ts';

type Metrics = Record<string, unknown>;

/** Parse a run's metrics.jsonl; a bad line is a DataError naming the file and line. */
export function readMetrics(path: string): Metrics[] {
  if (!existsSync(path))
    throw new DataError(`${path} does not exist; is this a spell run directory?`, { file: path });
  const out: Metrics[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        out.push(JSON.parse(line) as Metrics);
      } catch {
        throw new DataError(`${path}:${i + 1} is not valid JSON`, { file: path, row: i + 1 });
      }
    });
  return out;
}

function series(metrics: readonly Metrics[], key: string, name = key): Series {
  const points: [number, number][] = [];
  for (const m of metrics) {
    const s = m.step;
    const v = m[key];
    if (typeof s === 'number' && typeof v === 'number' && Number.isFinite(v)) points.push([s, v]);
  }
  return { name, points };
}

/** The charts of a run, as [title, series] pairs (the specs shared with `spell dashboard`). */
export function reportCharts(metrics: readonly Metrics[]): [string, Series[]][] {
  const keys = new Set<string>();
  for (const m of metrics) for (const k of Object.keys(m)) keys.add(k);
  const groups = discoverGroups(keys);
  return CHART_SPECS.map((spec) => [
    spec.title,
    expandSeries(spec, groups).map((s) => series(metrics, s.key, s.name)),
  ]);
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderReport(runDir: string): string {
  const metrics = readMetrics(join(runDir, 'metrics.jsonl'));
  const configPath = join(runDir, 'config.yaml');
  const config = existsSync(configPath) ? readFileSync(configPath, 'utf8') : '(no config.yaml)';
  const charts = reportCharts(metrics)
    .map(([title, s]) => `<figure>${lineChart(title, s)}</figure>`)
    .join('\n');
  const last = metrics[metrics.length - 1];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spell run report</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}figure{display:inline-block;margin:8px;border:1px solid #ddd;padding:4px}pre{background:#f6f6f6;padding:8px;max-height:320px;overflow:auto}</style>
</head><body>
<h1>spell run report</h1>
<p>Run directory: <code>${esc(runDir)}</code>. Steps recorded: <b id="steps">${metrics.length}</b>${last ? `, last step ${String(last.step)}` : ''}.</p>
<div id="charts">
${charts}
</div>
<h2>Configuration</h2>
<pre>${esc(config)}</pre>
</body></html>
`;
}

/** Write `<runDir>/report.html` (or `out`) atomically; returns the path. */
export function writeReport(runDir: string, out = join(runDir, 'report.html')): string {
  writeFileAtomic(out, renderReport(runDir));
  return out;
}
