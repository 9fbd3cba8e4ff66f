/**
 * The run summary in three forms: a JSON object (fractions, everything), a markdown table shaped
 * like the paper's Table 1 (percent, one decimal, with the paper's row beside it when the model
 * and input length match), and a self-contained HTML page with the pass@k curves as inline SVG.
 * Pure functions from data to text; the caller writes the files.
 */
import type { AggregateResult, TaskSummary } from './aggregate.ts';
import { findPaperRow, paperScores, type PaperScores } from './paper-table.ts';
import type { ScoringMode } from './score.ts';
import type { Suite } from './tasks.ts';

/** Everything `summary.json` holds. */
export interface EvalSummary {
  readonly suite: Suite;
  readonly model: string;
  readonly judgeModel: string | null;
  readonly scoring: ScoringMode;
  readonly n: number;
  readonly maxInputLen: number;
  readonly sampling: Readonly<Record<string, number | boolean>>;
  readonly tokenizer: string;
  /** Generation failures of the last run (missing samples; `--resume` retries them). */
  readonly generationFailures: number;
  /** The headline numbers, in the chosen scoring mode. */
  readonly result: AggregateResult;
  /** The same records scored in the other mode, for comparison. */
  readonly otherMode: AggregateResult;
  /** The paper's Table 1 row (percent) for this model and input length, when there is one. */
  readonly paper?: { readonly model: string; readonly scores: PaperScores };
}

/** Attach the paper row when the model name and input length match Table 1. */
export function paperFor(
  model: string,
  maxInputLen: number,
): { model: string; scores: PaperScores } | undefined {
  const row = findPaperRow(model);
  const scores = paperScores(model, maxInputLen);
  return row && scores ? { model: row.model, scores } : undefined;
}

const pct = (x: number | undefined): string => (x === undefined ? '–' : (100 * x).toFixed(1));

function taskRow(t: TaskSummary, n: number): string {
  const j = t.judge;
  const judge = j.needed === 0 ? '–' : `${j.ok}/${j.failed}/${j.notRun}`;
  const ks = [1, 2, 4, 8, n].filter((k, i, a) => k <= n && a.indexOf(k) === i);
  const passes = ks.map((k) => pct(t.passAtK[k - 1])).join(' / ');
  return `| ${t.task} | ${t.complete}/${t.questions} | ${pct(t.avg)} ± ${pct(t.avgStderr)} | ${passes} | ${pct(t.rule)} | ${pct(t.llm)} | ${pct(t.em)} | ${pct(t.f1)} | ${judge} | ${pct(t.truncatedRate)} | ${pct(t.noAnswerRate)} |`;
}

/** The markdown summary. */
export function summaryMarkdown(s: EvalSummary): string {
  const r = s.result;
  const lines: string[] = [];
  lines.push(`## spell eval: ${s.model}`);
  lines.push('');
  lines.push(
    `Suite ${s.suite}, max input ${s.maxInputLen} tokens, n = ${s.n}, scoring ${s.scoring}, judge ${s.judgeModel ?? 'none'}. Values in %.`,
  );
  lines.push('');
  if (r.paperAverage) {
    const p = r.paperAverage;
    const o = s.otherMode.paperAverage;
    lines.push('| | DocMath | Frames | LB-MQA | LB-V2 | Avg | 6-task mean |');
    lines.push('|---|---|---|---|---|---|---|');
    lines.push(
      `| this run (${s.scoring}) | ${pct(p.docmath)} | ${pct(p.frames)} | ${pct(p.lbMqa)} | ${pct(p.lbV2)} | ${pct(p.avg)} | ${pct(r.taskMean)} |`,
    );
    if (o) {
      lines.push(
        `| this run (${s.otherMode.mode}) | ${pct(o.docmath)} | ${pct(o.frames)} | ${pct(o.lbMqa)} | ${pct(o.lbV2)} | ${pct(o.avg)} | ${pct(s.otherMode.taskMean)} |`,
      );
    }
    if (s.paper) {
      const q = s.paper.scores;
      lines.push(
        `| paper Table 1: ${s.paper.model} | ${q.docmath.toFixed(1)} | ${q.frames.toFixed(1)} | ${q.lbMqa.toFixed(1)} | ${q.lbV2.toFixed(1)} | ${q.avg.toFixed(1)} | – |`,
      );
    }
    lines.push('');
  } else {
    lines.push(
      `Task mean (avg@${s.n}): ${pct(r.taskMean)} ± ${pct(r.taskMeanStderr)} (${s.scoring}; ± one standard error over questions); ${pct(s.otherMode.taskMean)} (${s.otherMode.mode}).`,
    );
    lines.push('');
  }
  const ks = [1, 2, 4, 8, s.n].filter((k, i, a) => k <= s.n && a.indexOf(k) === i);
  lines.push(
    `| Task | Questions | avg@${s.n} ± s.e. | pass@${ks.join('/')} | Rule | LLM | EM | F1 | Judge ok/failed/not run | Truncated | No answer |`,
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const t of r.tasks) lines.push(taskRow(t, s.n));
  lines.push('');
  const failed = r.tasks.reduce((a, t) => a + t.judge.failed, 0);
  if (failed > 0) {
    lines.push(
      `**${failed} judge call(s) failed after retries** and count 0 on the judge side; re-run with --resume to retry them.`,
    );
  }
  if (s.generationFailures > 0) {
    lines.push(
      `**${s.generationFailures} sample(s) failed to generate**; their questions are left out. Re-run with --resume.`,
    );
  }
  if (r.mode === 'as-coded') {
    const boot = r.tasks
      .map(
        (t) =>
          `${t.task} ${Object.entries(t.bootstrapPassAtK ?? {})
            .map(([k, v]) => `@${k} ${pct(v)}`)
            .join(', ')}`,
      )
      .join('; ');
    lines.push(`Bootstrap best@k (released code): ${boot}.`);
  }
  return `${lines.join('\n')}\n`;
}

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#8c564b',
  '#17becf',
  '#000',
];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A self-contained HTML page: pass@k curves (k = 1..n) per task and overall, plus the tables. */
export function summaryHtml(s: EvalSummary): string {
  const W = 560;
  const H = 320;
  const pad = 40;
  const series: { name: string; values: number[] }[] = s.result.tasks.map((t) => ({
    name: t.task,
    values: t.passAtK,
  }));
  if (s.result.paperAveragePassAtK) {
    series.push({ name: 'paper Avg', values: s.result.paperAveragePassAtK });
  } else {
    series.push({ name: 'task mean', values: s.result.taskMeanPassAtK });
  }
  const x = (k: number): number => pad + ((k - 1) / Math.max(1, s.n - 1)) * (W - 2 * pad);
  const y = (v: number): number => H - pad - v * (H - 2 * pad);
  const parts: string[] = [];
  for (let g = 0; g <= 4; g++) {
    const v = g / 4;
    parts.push(
      `<line x1="${pad}" x2="${W - pad}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="4" y="${y(v) + 4}" font-size="11">${100 * v}</text>`,
    );
  }
  for (let k = 1; k <= s.n; k++) {
    parts.push(`<text x="${x(k) - 3}" y="${H - pad + 16}" font-size="11">${k}</text>`);
  }
  series.forEach((se, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = se.values.map((v, k) => `${x(k + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`);
    parts.push(
      `<text x="${W - pad + 4}" y="${pad + 14 * i}" font-size="11" fill="${color}">${esc(se.name)}</text>`,
    );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W + 90}" height="${H}" role="img" aria-label="pass@k curves">${parts.join('')}<text x="${W / 2}" y="${H - 6}" font-size="12">k</text></svg>`;
  const rows = s.result.tasks
    .map(
      (t) =>
        `<tr><td>${esc(t.task)}</td><td>${t.complete}</td><td>${pct(t.avg)}</td>${t.passAtK.map((v) => `<td>${pct(v)}</td>`).join('')}</tr>`,
    )
    .join('');
  const head = Array.from({ length: s.n }, (_, i) => `<th>pass@${i + 1}</th>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spell eval: ${esc(s.model)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style>
</head><body>
<h1>spell eval: ${esc(s.model)}</h1>
<p>Suite ${esc(s.suite)}, max input ${s.maxInputLen} tokens, n = ${s.n}, scoring ${esc(s.scoring)}, judge ${esc(s.judgeModel ?? 'none')}. Unbiased pass@k, in %.</p>
${svg}
<table><thead><tr><th>Task</th><th>Questions</th><th>avg@${s.n}</th>${head}</tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}
