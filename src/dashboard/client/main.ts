/**
 * The dashboard page: loads the runs, keeps their metrics current from the server's event stream
 * (no polling), and switches between the charts and the rollout browser; the view and filters
 * live in the URL hash, so a chart click is a link to the rollouts of that step.
 */
import {
  getJson,
  type MetricsEvent,
  type MetricsRow,
  type RunInfo,
  type RunsAnswer,
  type StepsEvent,
} from './api.ts';
import { ChartBoard, chartKeys, DASHES, type ChartView } from './charts.ts';
import { byId, h } from './dom.ts';
import { RolloutBrowser, type BrowserState } from './rollouts.ts';

const view: ChartView = {
  axis: 'step',
  smooth: 0,
  hiddenTasks: new Set(),
  hiddenRoles: new Set(),
  hiddenRuns: new Set(),
};
const metrics = new Map<number, MetricsRow[]>();
let runs: RunInfo[] = [];
let board: ChartBoard;
let browser: RolloutBrowser;
let current: 'charts' | 'rollouts' = 'charts';

function runCards(): void {
  byId('runs').replaceChildren(
    ...runs.map((r, i) => {
      const box = h('input', { type: 'checkbox', id: `run-${r.id}-show` });
      box.checked = !view.hiddenRuns.has(r.id);
      box.addEventListener('change', () => {
        if (box.checked) view.hiddenRuns.delete(r.id);
        else view.hiddenRuns.add(r.id);
        scheduleCharts();
      });
      const rows = metrics.get(r.id) ?? [];
      const dash = h('span', { class: 'dash' });
      dash.style.borderTopStyle = (DASHES[i % DASHES.length] ?? []).length > 0 ? 'dashed' : 'solid';
      return h(
        'label',
        { class: 'run-card', title: r.root },
        box,
        dash,
        h('b', {}, r.name),
        ' steps ',
        h('b', { id: `run-${r.id}-steps` }, String(rows.length)),
        ' · last ',
        h('span', { id: `run-${r.id}-last` }, String(rows[rows.length - 1]?.step ?? '–')),
        ' · rollouts ',
        h('span', { id: `run-${r.id}-rollouts` }, String(r.steps.length)),
      );
    }),
  );
}

function toggles(id: string, names: readonly string[], hidden: Set<string>): void {
  const fs = byId(id);
  const legend = fs.querySelector('legend');
  fs.replaceChildren(
    ...(legend ? [legend] : []),
    ...names.map((n) => {
      const box = h('input', { type: 'checkbox', 'data-toggle': n });
      box.checked = !hidden.has(n);
      box.addEventListener('change', () => {
        if (box.checked) hidden.delete(n);
        else hidden.add(n);
        scheduleCharts();
      });
      return h('label', {}, box, ` ${n}`);
    }),
  );
}

let chartsPending = false;
function scheduleCharts(): void {
  if (chartsPending) return;
  chartsPending = true;
  requestAnimationFrame(() => {
    chartsPending = false;
    board.render(runs, metrics, view);
  });
}

function show(which: 'charts' | 'rollouts'): void {
  current = which;
  byId('charts-view').hidden = which !== 'charts';
  byId('rollouts-view').hidden = which !== 'rollouts';
  byId('tab-charts').setAttribute('aria-selected', String(which === 'charts'));
  byId('tab-rollouts').setAttribute('aria-selected', String(which === 'rollouts'));
  if (which === 'charts') scheduleCharts();
}

function hashOf(s: BrowserState): string {
  const p = new URLSearchParams({ run: String(s.run), step: s.step });
  if (s.offset > 0) p.set('offset', String(s.offset));
  for (const [k, v] of Object.entries(s.filters)) if (v !== '') p.set(k, v);
  return `#rollouts?${p.toString()}`;
}

/** Apply the URL hash: which view, and the browser's state. */
function route(): void {
  const hash = location.hash;
  if (!hash.startsWith('#rollouts')) {
    show('charts');
    return;
  }
  const p = new URLSearchParams(hash.slice(hash.indexOf('?') + 1));
  const s = browser.state;
  s.run = Number(p.get('run') ?? '0') || 0;
  s.step = p.get('step') ?? s.step;
  s.offset = Number(p.get('offset') ?? '0') || 0;
  for (const k of Object.keys(s.filters) as (keyof BrowserState['filters'])[])
    s.filters[k] = p.get(k) ?? '';
  browser.setRuns(runs);
  show('rollouts');
  void browser.load();
}

function navigate(s: BrowserState): void {
  const next = hashOf(s);
  if (location.hash === next) route();
  else location.hash = next;
}

/** Set a run card's text; events can arrive before the cards are drawn. */
function setText(id: string, text: string): void {
  const el = document.getElementById(id);
  if (el !== null) el.textContent = text;
}

function listen(): void {
  const live = byId('live');
  const es = new EventSource('/api/events');
  es.onopen = () => {
    live.textContent = 'live';
    live.classList.add('on');
  };
  es.onerror = () => {
    live.textContent = 'reconnecting…';
    live.classList.remove('on');
  };
  es.addEventListener('metrics', (e) => {
    const ev = JSON.parse((e as MessageEvent<string>).data) as MetricsEvent;
    const run = runs[ev.run];
    if (run === undefined) return;
    const rows = ev.reset ? [] : (metrics.get(ev.run) ?? []);
    // the stream opens before the first fetch, so rows may arrive twice: keep newer steps only
    const last = rows[rows.length - 1]?.step ?? -Infinity;
    rows.push(...ev.rows.filter((r) => (r.step ?? -Infinity) > last));
    metrics.set(ev.run, rows);
    const keys = new Set(run.metricKeys);
    for (const r of ev.rows) for (const k of Object.keys(r)) keys.add(k);
    run.metricKeys = [...keys];
    setText(`run-${run.id}-steps`, String(rows.length));
    setText(`run-${run.id}-last`, String(rows[rows.length - 1]?.step ?? '–'));
    groupToggles();
    scheduleCharts();
  });
  es.addEventListener('steps', (e) => {
    const ev = JSON.parse((e as MessageEvent<string>).data) as StepsEvent;
    const run = runs[ev.run];
    if (run === undefined) return;
    run.steps = ev.steps;
    run.facets = ev.facets;
    setText(`run-${run.id}-rollouts`, String(run.steps.length));
    browser.setRuns(runs);
    const s = browser.state;
    if (
      current === 'rollouts' &&
      s.run === ev.run &&
      (s.step === 'all' || ev.changed.includes(Number(s.step)))
    )
      void browser.load();
  });
}

function groupToggles(): void {
  const g = board.groups(runs);
  const have = (id: string): string =>
    [...byId(id).querySelectorAll<HTMLInputElement>('input')].map((i) => i.dataset.toggle).join();
  if (have('task-toggles') !== g.tasks.join()) toggles('task-toggles', g.tasks, view.hiddenTasks);
  if (have('role-toggles') !== g.roles.join()) toggles('role-toggles', g.roles, view.hiddenRoles);
}

function keyboard(): void {
  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement;
    const typing =
      t instanceof HTMLInputElement ||
      t instanceof HTMLSelectElement ||
      t instanceof HTMLTextAreaElement;
    if (e.key === 'Escape') {
      if (typing) t.blur();
      else browser.closeStory();
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'c') location.hash = '#charts';
    else if (e.key === 'r') navigate(browser.state);
    else if (e.key === '/') {
      e.preventDefault();
      if (current !== 'rollouts') navigate(browser.state);
      byId('f-q').focus();
    } else if (current === 'rollouts' && e.key === '[') browser.moveStep(-1);
    else if (current === 'rollouts' && e.key === ']') browser.moveStep(1);
    else if (current === 'rollouts' && e.key === 'j') browser.focusRow(1);
    else if (current === 'rollouts' && e.key === 'k') browser.focusRow(-1);
  });
}

async function main(): Promise<void> {
  const answer = await getJson<RunsAnswer>('/api/runs');
  runs = answer.runs;
  board = new ChartBoard(byId('charts'), answer.charts, (run, step) => {
    navigate({
      run,
      step: String(step),
      offset: 0,
      filters: { role: '', task: '', label: '', rmin: '', rmax: '', trained: '', q: '' },
    });
  });
  browser = new RolloutBrowser(navigate);
  listen();
  const keys = chartKeys(answer.charts, runs).join(',');
  await Promise.all(
    runs.map(async (r) => {
      const m = await getJson<{ rows: MetricsRow[] }>(
        `/api/runs/${r.id}/metrics?keys=${encodeURIComponent(keys)}`,
      );
      metrics.set(r.id, m.rows);
    }),
  );
  runCards();
  groupToggles();
  browser.setRuns(runs);
  byId('chart-controls').addEventListener('submit', (e) => e.preventDefault());
  byId<HTMLSelectElement>('axis').addEventListener('change', (e) => {
    view.axis = (e.target as HTMLSelectElement).value === 'time' ? 'time' : 'step';
    scheduleCharts();
  });
  byId<HTMLInputElement>('smooth').addEventListener('input', (e) => {
    view.smooth = Number((e.target as HTMLInputElement).value);
    byId('smooth-out').textContent = view.smooth.toFixed(2);
    scheduleCharts();
  });
  byId('tab-charts').addEventListener('click', () => (location.hash = '#charts'));
  byId('tab-rollouts').addEventListener('click', () => navigate(browser.state));
  window.addEventListener('hashchange', route);
  keyboard();
  route();
  document.body.dataset.ready = '1';
}

void main().catch((err: unknown) => {
  document.body.prepend(h('p', { class: 'error' }, `dashboard failed: ${String(err)}`));
});
