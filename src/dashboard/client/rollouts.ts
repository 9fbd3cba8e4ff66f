/**
 * The rollout browser: filters (run, step, role, task, label, reward range, trained, text) kept in
 * the URL hash, a paged sample list the server filters from its index, and the story of the
 * question a selected sample belongs to. Rows are focusable; j/k move, Enter opens.
 */
import {
  getJson,
  type QuestionStory,
  type RunInfo,
  type SamplePage,
  type SampleRow,
} from './api.ts';
import { byId, fmt, h, setOptions } from './dom.ts';
import { renderStory } from './story.ts';

const PAGE = 50;
const FIELDS = ['role', 'task', 'label', 'rmin', 'rmax', 'trained', 'q'] as const;

export interface BrowserState {
  run: number;
  /** A step number, or 'all'. */
  step: string;
  offset: number;
  filters: Record<(typeof FIELDS)[number], string>;
}

function labelClass(label: string | null): string {
  if (label === null) return 'tag';
  return label === 'good' ? 'tag good' : label.startsWith('bad') ? 'tag bad' : 'tag';
}

export class RolloutBrowser {
  state: BrowserState = {
    run: 0,
    step: '',
    offset: 0,
    filters: { role: '', task: '', label: '', rmin: '', rmax: '', trained: '', q: '' },
  };
  private runs: RunInfo[] = [];
  private seq = 0;
  private rows: SampleRow[] = [];
  private readonly tbody: HTMLTableSectionElement;
  private readonly story = byId('story');
  private searchTimer: number | undefined;

  constructor(private readonly onStateChange: (s: BrowserState) => void) {
    this.tbody = byId<HTMLTableElement>('samples').tBodies[0];
    byId('filters').addEventListener('submit', (e) => e.preventDefault());
    byId<HTMLSelectElement>('f-run').addEventListener('change', (e) => {
      this.state.run = Number((e.target as HTMLSelectElement).value);
      this.state.step = '';
      this.changed();
    });
    byId<HTMLSelectElement>('f-step').addEventListener('change', (e) => {
      this.state.step = (e.target as HTMLSelectElement).value;
      this.changed();
    });
    for (const f of FIELDS) {
      const el = byId<HTMLInputElement | HTMLSelectElement>(`f-${f}`);
      const handler = (): void => {
        this.state.filters[f] = el.value;
        if (f === 'q') {
          window.clearTimeout(this.searchTimer);
          this.searchTimer = window.setTimeout(() => this.changed(), 250);
        } else this.changed();
      };
      el.addEventListener(el instanceof HTMLSelectElement ? 'change' : 'input', handler);
    }
    byId('step-prev').addEventListener('click', () => this.moveStep(-1));
    byId('step-next').addEventListener('click', () => this.moveStep(1));
    byId('page-prev').addEventListener('click', () => this.page(-1));
    byId('page-next').addEventListener('click', () => this.page(1));
  }

  private changed(): void {
    this.state.offset = 0;
    this.onStateChange(this.state);
  }

  private page(dir: number): void {
    this.state.offset = Math.max(0, this.state.offset + dir * PAGE);
    this.onStateChange(this.state);
  }

  moveStep(dir: number): void {
    const steps = this.runs[this.state.run]?.steps ?? [];
    if (steps.length === 0) return;
    const i = steps.indexOf(Number(this.state.step));
    const next = i === -1 ? (dir > 0 ? 0 : steps.length - 1) : i + dir;
    const s = steps[Math.min(steps.length - 1, Math.max(0, next))];
    if (s === undefined) return;
    this.state.step = String(s);
    this.changed();
  }

  /** Offer the runs' steps and facets in the selects (called again when runs change). */
  setRuns(runs: RunInfo[]): void {
    this.runs = runs;
    setOptions(
      byId<HTMLSelectElement>('f-run'),
      runs.map((r) => [String(r.id), r.name]),
    );
    const run = runs[this.state.run];
    if (run === undefined) return;
    if (this.state.step === '' && run.steps.length > 0)
      this.state.step = String(run.steps[run.steps.length - 1]);
    setOptions(byId<HTMLSelectElement>('f-step'), [
      ['all', 'all steps'],
      ...run.steps.map((s): [string, string] => [String(s), String(s)]),
    ]);
    const facet = (id: string, counts: Record<string, number>): void =>
      setOptions(byId<HTMLSelectElement>(id), [
        ['', 'any'],
        ...Object.entries(counts).map(([k, n]): [string, string] => [k, `${k} (${n})`]),
      ]);
    facet('f-role', run.facets.roles);
    facet('f-task', run.facets.tasks);
    facet('f-label', run.facets.labels);
    this.syncControls();
  }

  /** Put the state into the controls (after a hash change). */
  syncControls(): void {
    byId<HTMLSelectElement>('f-run').value = String(this.state.run);
    const stepSel = byId<HTMLSelectElement>('f-step');
    if (this.state.step !== '' && ![...stepSel.options].some((o) => o.value === this.state.step))
      stepSel.append(h('option', { value: this.state.step }, this.state.step));
    stepSel.value = this.state.step;
    for (const f of FIELDS) {
      const el = byId<HTMLInputElement | HTMLSelectElement>(`f-${f}`);
      if (el instanceof HTMLSelectElement && el.value !== this.state.filters[f]) {
        const v = this.state.filters[f];
        if (v !== '' && ![...el.options].some((o) => o.value === v))
          el.append(h('option', { value: v }, v));
      }
      el.value = this.state.filters[f];
    }
  }

  /** Fetch and show the page the state describes. */
  async load(): Promise<void> {
    const s = this.state;
    const params = new URLSearchParams({
      step: s.step === '' ? 'all' : s.step,
      offset: String(s.offset),
      limit: String(PAGE),
    });
    for (const f of FIELDS) if (s.filters[f] !== '') params.set(f, s.filters[f]);
    const seq = ++this.seq;
    const page = await getJson<SamplePage>(`/api/runs/${s.run}/rollouts?${params.toString()}`);
    if (seq !== this.seq) return; // a newer query is on its way
    this.rows = page.rows;
    const last = Math.min(page.total, page.offset + page.rows.length);
    byId('result-count').textContent =
      page.total === 0
        ? 'no samples match'
        : `${page.total} samples match · showing ${page.offset + 1}–${last}`;
    byId('page-info').textContent =
      `${page.offset / PAGE + 1} / ${Math.max(1, Math.ceil(page.total / PAGE))}`;
    byId<HTMLButtonElement>('page-prev').disabled = page.offset === 0;
    byId<HTMLButtonElement>('page-next').disabled = last >= page.total;
    this.tbody.replaceChildren(...page.rows.map((r, i) => this.rowView(r, i)));
  }

  private rowView(r: SampleRow, i: number): HTMLTableRowElement {
    const tr = h(
      'tr',
      {
        tabindex: '0',
        'data-row': String(i),
        'data-role': r.role,
        'data-step': String(r.step),
        'data-uid': r.uid,
      },
      h('td', {}, String(r.step)),
      h('td', {}, r.role),
      h('td', {}, r.task),
      h('td', {}, h('span', { class: labelClass(r.label) }, r.label ?? '–')),
      h('td', { class: 'reward' }, fmt(r.reward)),
      h('td', {}, fmt(r.advantage)),
      h('td', {}, r.trained ? h('span', { class: 'tag trained' }, 'trained') : 'no'),
      h('td', { class: 'text', title: r.snippet }, h('div', {}, r.snippet)),
    );
    tr.addEventListener('click', () => void this.open(i));
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void this.open(i);
    });
    return tr;
  }

  /** Move the keyboard focus to the next/previous row. */
  focusRow(dir: number): void {
    const rows = [...this.tbody.rows];
    if (rows.length === 0) return;
    const cur = rows.findIndex((r) => r === document.activeElement);
    const next = rows[Math.min(rows.length - 1, Math.max(0, cur === -1 ? 0 : cur + dir))];
    next?.focus();
  }

  async open(i: number): Promise<void> {
    const r = this.rows[i];
    if (r === undefined) return;
    for (const tr of this.tbody.rows) tr.classList.toggle('selected', tr.dataset.row === String(i));
    const params = new URLSearchParams({ step: String(r.step), uid: r.uid });
    const story = await getJson<QuestionStory>(
      `/api/runs/${this.state.run}/question?${params.toString()}`,
    );
    renderStory(this.story, story);
  }

  closeStory(): void {
    this.story.replaceChildren();
  }
}
