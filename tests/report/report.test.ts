import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { spell, tempDir } from '../train/helpers.ts';

const CHROMIUM = process.env.SPELL_CHROMIUM ?? '/usr/bin/chromium';

/** A run directory with five steps of metrics whose values we know. */
function writeRun(): string {
  const dir = join(tempDir('spell-report-'), 'run');
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (let step = 1; step <= 5; step++) {
    lines.push(
      JSON.stringify({
        step,
        'critic/role/questioner/rewards/mean': 0.1 * step,
        'critic/role/responder/rewards/mean': 0.5 - 0.05 * step,
        'critic/role/verifier/rewards/mean': 0.8,
        'responder/task/qa/pass_rate': 0.2 * step,
        'questions/task/qa/difficulty': 1 - 0.2 * step,
        'context/task/qa/documents_mean': 2 + step,
        'response_length/role/responder/mean': 30 + step,
        'timing_s/step': 10 + step,
      }),
    );
  }
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'config.yaml'), 'steps: 5\n');
  return dir;
}

describe('spell report', () => {
  test('report.html opens offline in headless Chromium and draws every chart', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is needed (apt-get install chromium)`).toBe(true);
    const dir = writeRun();
    await spell(['report', dir]);
    const html = join(dir, 'report.html');
    expect(existsSync(html)).toBe(true);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(html).href);
      expect(await page.locator('#steps').textContent()).toBe('5');
      const charts = page.locator('svg.chart');
      expect(await charts.count()).toBe(10);
      // the questioner reward series: one polyline with a vertex per step, rendered with a real size
      const q = page.locator('polyline[data-name="questioner"]');
      expect(await q.count()).toBe(1);
      const points = (await q.getAttribute('points'))?.trim().split(/\s+/) ?? [];
      expect(points).toHaveLength(5);
      const box = await q.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(100);
      // rising values are drawn rising (SVG y grows downwards)
      const ys = points.map((p) => Number(p.split(',')[1]));
      expect(ys[4]).toBeLessThan(ys[0]);
      // nothing is fetched besides the file itself
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  test('a run directory without metrics is a clear error', async () => {
    await expect(spell(['report', tempDir('spell-empty-')])).rejects.toThrow(/metrics\.jsonl/);
  });
});
