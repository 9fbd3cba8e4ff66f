/**
 * How the dashboard's step-file index compares with reading a step file whole: time and peak
 * extra heap for one large synthetic rollouts file, printed as JSON with ratios (index / whole).
 *
 *   node --expose-gc --import tsx scripts/dashboard-index-bench.ts [samples=40000] [textChars=2500]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexStepFile } from '../src/dashboard/rollout-index.ts';

const samples = Number(process.argv[2] ?? 40_000);
const textChars = Number(process.argv[3] ?? 2500);
const dir = mkdtempSync(join(tmpdir(), 'spell-index-bench-'));
const path = join(dir, 'step-000001.jsonl');
const text = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(textChars / 27)).slice(0, textChars);
const lines: string[] = [];
for (let i = 0; i < samples; i++) {
  const role = ['questioner', 'responder', 'verifier'][i % 3];
  lines.push(
    JSON.stringify({
      step: 1,
      role,
      uid: `q${i >> 3}`,
      task: 'qa',
      label: 'good',
      reward: (i % 7) / 7,
      trained: i % 2 === 0,
      text,
    }),
  );
}
writeFileSync(path, `${lines.join('\n')}\n`);
lines.length = 0;
const gc = (globalThis as { gc?: () => void }).gc;

async function measure(
  fn: () => Promise<number>,
): Promise<{ seconds: number; peakHeapMB: number; count: number }> {
  gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
  const t0 = performance.now();
  const count = await fn();
  const seconds = (performance.now() - t0) / 1000;
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  clearInterval(timer);
  return { seconds, peakHeapMB: (peak - base) / 2 ** 20, count };
}

const index = await measure(async () => (await indexStepFile(path, 1)).entries.length);
const whole = await measure(() => {
  const rows = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
  return Promise.resolve(rows.length);
});
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({
    fileMB: Number(((samples * (textChars + 110)) / 2 ** 20).toFixed(1)),
    samples,
    index,
    wholeFile: whole,
    timeRatio: Number((index.seconds / whole.seconds).toFixed(2)),
    heapRatio: Number((index.peakHeapMB / whole.peakHeapMB).toFixed(3)),
    gcExposed: gc !== undefined,
  })}\n`,
);
