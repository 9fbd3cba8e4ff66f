/**
 * A small line-chart renderer to static SVG (no scripts, no external assets), so a report opens
 * offline in any browser. One chart = several named series over the step axis.
 */

export interface Series {
  readonly name: string;
  /** [step, value] points; missing steps are simply absent. */
  readonly points: readonly (readonly [number, number])[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];

function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (lo === hi) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0)
    ? v.toExponential(1)
    : String(Number(v.toFixed(3)));
}

/** Render one chart; series without points are listed in the legend as "(no data)". */
export function lineChart(
  title: string,
  series: readonly Series[],
  width = 460,
  height = 260,
  xLabel = 'step',
): string {
  const m = { left: 52, right: 12, top: 28, bottom: 56 };
  const all = series.flatMap((s) => s.points);
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const parts: string[] = [
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  if (all.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" fill="#888">no data yet</text></svg>`,
    );
    return parts.join('');
  }
  let x0 = Math.min(...all.map((p) => p[0]));
  let x1 = Math.max(...all.map((p) => p[0]));
  let y0 = Math.min(...all.map((p) => p[1]));
  let y1 = Math.max(...all.map((p) => p[1]));
  if (x0 === x1) {
    x0 -= 1;
    x1 += 1;
  }
  if (y0 === y1) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * w;
  const sy = (y: number): number => m.top + h - ((y - y0) / (y1 - y0)) * h;
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#ccc"/>`,
  );
  for (const t of niceTicks(y0, y1, 4)) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + w}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`,
      `<text x="${m.left - 4}" y="${sy(t) + 4}" text-anchor="end" font-size="10">${fmt(t)}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1, 5).filter((t) => Number.isInteger(t))) {
    parts.push(
      `<text x="${sx(t)}" y="${m.top + h + 14}" text-anchor="middle" font-size="10">${t}</text>`,
    );
  }
  parts.push(
    `<text x="${m.left + w / 2}" y="${m.top + h + 28}" text-anchor="middle" font-size="10">${esc(xLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) {
      const d = pts.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
      parts.push(
        `<polyline class="series" data-name="${esc(s.name)}" fill="none" stroke="${color}" stroke-width="1.8" points="${d}"/>`,
      );
    }
    for (const p of pts) {
      parts.push(
        `<circle class="point" cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.2" fill="${color}"/>`,
      );
    }
    const lx = m.left + (i % 3) * (w / 3);
    const ly = height - 18 + Math.floor(i / 3) * 12;
    const label = pts.length === 0 ? `${s.name} (no data)` : s.name;
    parts.push(
      `<rect x="${lx}" y="${ly - 8}" width="9" height="9" fill="${color}"/>`,
      `<text x="${lx + 12}" y="${ly}" font-size="10">${esc(label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
