/**
 * `spell dashboard` in headless Chromium: a finished run and a running one side by side, live
 * updates while the test appends steps, filters and search against literal counts, a chart click
 * opening that step's rollouts, the question story, the keys, and the server's refusals.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSpell, tempDir } from '../train/helpers.ts';
import { appendStep, SAMPLES_PER_STEP, writeCorpus, writeRun } from './fixture-run.ts';

const CHROMIUM = process.env.SPELL_CHROMIUM ?? '/usr/bin/chromium';
/** Steps of the finished run: 7 × 8 = 56 samples, two pages of 50. */
const FINISHED = 7;

let server: ChildProcess;
let url = '';
let browser: Browser;
let page: Page;
let running = '';
const requests: string[] = [];

/** Start `spell dashboard` and read the URL it prints (bounded wait). */
function startServer(args: readonly string[]): Promise<string> {
  server = spawnSpell(['dashboard', ...args, '--port', '0']);
  return new Promise((ok, fail) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`no URL after 60 s: ${out}${err}`)), 60_000);
    server.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    server.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    server.on('exit', (code) => fail(new Error(`spell dashboard exited (${code}): ${err}`)));
  });
}

/** A raw request with chosen headers (fetch cannot set Host). */
function raw(
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request(
      { host: '127.0.0.1', port: Number(u.port), path, method, headers },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

async function rows(): Promise<number> {
  return page.locator('#samples tbody tr').count();
}

/** Set filters through the URL hash (as a link would) and wait for the answer. */
async function browse(hash: string, expectCount: RegExp): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await expect.poll(() => page.locator('#result-count').textContent()).toMatch(expectCount);
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is needed (apt-get install chromium)`).toBe(true);
  const dir = tempDir('spell-dashboard-');
  const corpus = writeCorpus(dir);
  const finished = writeRun(join(dir, 'finished'), FINISHED, corpus);
  running = writeRun(join(dir, 'running'), 2, corpus);
  url = await startServer([finished, running]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

describe('spell dashboard', () => {
  test('shows a finished and a running run side by side, with every chart of the report', async () => {
    expect(await page.locator('#run-0-steps').textContent()).toBe(String(FINISHED));
    expect(await page.locator('#run-1-steps').textContent()).toBe('2');
    expect(await page.locator('.chart').count()).toBe(10);
    const reward = page.locator('.chart[data-id="reward-role"]');
    expect(await reward.getAttribute('data-points')).toBe(String(FINISHED));
    expect(await reward.locator('canvas').count()).toBe(1);
    // one legend entry per run and role that has a line
    expect(await reward.locator('.u-legend .u-series').count()).toBeGreaterThanOrEqual(5);
    // everything came from the server itself: no CDN, no other host
    expect(requests.filter((u) => !u.startsWith(url))).toEqual([]);
  });

  test('new steps of the running run appear without a reload', async () => {
    await browse('#rollouts?run=1&step=all', new RegExp(`^${2 * SAMPLES_PER_STEP} samples`));
    // a marker on the window survives hash changes and dies with a reload
    await page.evaluate('window.marker = 42');
    appendStep(running, 3);
    await expect
      .poll(() => page.locator('#run-1-steps').textContent(), { timeout: 15_000 })
      .toBe('3');
    await expect
      .poll(() => page.locator('#result-count').textContent(), { timeout: 15_000 })
      .toMatch(new RegExp(`^${3 * SAMPLES_PER_STEP} samples`));
    expect(await page.locator('#f-step option[value="3"]').count()).toBe(1);
    appendStep(running, 4);
    await expect
      .poll(() => page.locator('#run-1-last').textContent(), { timeout: 15_000 })
      .toBe('4');
    expect(await page.evaluate('window.marker')).toBe(42);
    await page.locator('#tab-charts').click();
    await expect
      .poll(() => page.locator('.chart[data-id="reward-role"]').getAttribute('data-points'))
      .toBe(String(FINISHED));
  });

  test('filters by role, task, label, reward range and trained return exactly the matching samples', async () => {
    await browse('#rollouts?run=0&step=2&role=questioner', /^3 samples/);
    expect(await page.locator('#samples tbody tr[data-role="questioner"]').count()).toBe(3);
    // label of a question, inherited by its answers and votes: 6 per step over 7 steps
    await browse('#rollouts?run=0&step=all&label=good', /^42 samples/);
    await browse('#rollouts?run=0&step=all&label=bad_ground', /^7 samples/);
    await browse('#rollouts?run=0&step=2&rmin=0.5', /^2 samples/);
    await browse('#rollouts?run=0&step=2&rmin=-1&rmax=0', /^2 samples/);
    await browse('#rollouts?run=0&step=2&task=docmath', /^1 samples/);
    await browse('#rollouts?run=0&step=2&trained=0', /^4 samples/);
    await browse('#rollouts?run=0&step=2&role=verifier&label=bad_format', /no samples match/);
    expect(await rows()).toBe(0);
    // the label choices are read from the data
    const labels = await page.locator('#f-label option').allTextContents();
    expect(labels).toEqual(['any', 'bad_format (7)', 'bad_ground (7)', 'good (42)']);
  });

  test('the form controls drive the same query, and paging walks through the matches', async () => {
    await browse('#rollouts?run=0&step=all', /^56 samples match · showing 1–50$/);
    expect(await rows()).toBe(50);
    await page.locator('#page-next').click();
    await expect
      .poll(() => page.locator('#result-count').textContent())
      .toBe('56 samples match · showing 51–56');
    expect(await rows()).toBe(6);
    expect(await page.locator('#page-next').isDisabled()).toBe(true);
    await page.selectOption('#f-role', 'responder');
    await expect.poll(() => page.locator('#result-count').textContent()).toMatch(/^14 samples/);
    await page.fill('#f-rmin', '1');
    await expect.poll(() => page.locator('#result-count').textContent()).toMatch(/^7 samples/);
    expect(await page.evaluate('location.hash')).toContain('rmin=1');
  });

  test('text search finds the one sample that says it, across all steps, and opens its story', async () => {
    await browse('#rollouts?run=0&step=all', /^56 samples/);
    await page.fill('#f-q', 'ZEBRA');
    await expect.poll(() => page.locator('#result-count').textContent()).toMatch(/^1 samples/);
    expect(await page.locator('#samples tbody tr').getAttribute('data-step')).toBe('3');
    await page.locator('#samples tbody tr').first().click();
    const story = page.locator('#story');
    await expect.poll(() => story.locator('.doc').count()).toBe(3);
    expect(await story.locator('.doc.seen').count()).toBe(2);
    expect(await story.locator('.doc.distractor').count()).toBe(1);
    expect(await story.locator('.doc.distractor').textContent()).toContain('Doc one');
    expect(await story.locator('.answer').count()).toBe(2);
    const votes = await story.locator('.answer').first().locator('.votes').textContent();
    expect(votes).toMatch(/YES YES NO\s+majority YES/);
    expect(await story.textContent()).toContain('referenceAnswer: Selby');
    // searching a key name finds nothing: keys are not text
    await page.fill('#f-q', 'responder_index');
    await expect.poll(() => page.locator('#result-count').textContent()).toBe('no samples match');
  });

  test("a click on a chart point opens that step's rollouts", async () => {
    await page.evaluate("location.hash = '#charts'");
    const over = page.locator('.chart[data-id="reward-role"] .u-over');
    const box = await over.boundingBox();
    if (box === null) throw new Error('the chart is not drawn');
    // steps 1..7 span the x axis: step 4 is in the middle
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2);
    await expect.poll(() => page.evaluate('location.hash')).toMatch(/^#rollouts\?run=0&step=4/);
    await expect.poll(() => page.locator('#result-count').textContent()).toMatch(/^8 samples/);
    const trs = page.locator('#samples tbody tr');
    const steps: (string | null)[] = [];
    for (let i = 0; i < (await trs.count()); i++)
      steps.push(await trs.nth(i).getAttribute('data-step'));
    expect(new Set(steps)).toEqual(new Set(['4']));
    expect(await page.locator('#rollouts-view').isVisible()).toBe(true);
  });

  test('is keyboard friendly: c/r switch views, / searches, ] steps, j and Enter open a sample', async () => {
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('c');
    await expect.poll(() => page.locator('#charts-view').isVisible()).toBe(true);
    await page.keyboard.press('r');
    await expect.poll(() => page.locator('#rollouts-view').isVisible()).toBe(true);
    await browse('#rollouts?run=0&step=2', /^8 samples/);
    await page.keyboard.press(']');
    await expect.poll(() => page.evaluate('location.hash')).toContain('step=3');
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#story h3').first().textContent()).toContain('Step 3');
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement?.id')).toBe('f-q');
  });

  test('refuses other hosts and origins, writes, and any path outside its own', async () => {
    const u = new URL(url);
    const host = u.host;
    expect((await raw('/api/runs', { host })).status).toBe(200);
    expect((await raw('/api/runs', { host: 'evil.example' })).status).toBe(403);
    expect((await raw('/api/runs', { host: `attacker.example:${u.port}` })).status).toBe(403);
    expect((await raw('/api/runs', { host, origin: 'http://evil.example' })).status).toBe(403);
    expect((await raw('/api/events', { host, origin: 'http://evil.example' })).status).toBe(403);
    expect((await raw('/api/runs', { host }, 'POST')).status).toBe(405);
    for (const path of [
      '/../../../../etc/passwd',
      '/assets/../../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/api/runs/0/../../../etc/passwd',
      '/api/runs/..%2f..%2fetc/metrics',
      '/api/runs/9/metrics',
    ]) {
      const res = await raw(path, { host });
      expect([400, 404], path).toContain(res.status);
      expect(res.body).not.toContain('root:');
    }
    expect((await raw('/api/runs/0/rollouts?step=abc', { host })).status).toBe(400);
    expect((await raw('/api/runs/0/rollouts?step=1&limit=100000', { host })).status).toBe(400);
    const page1 = await raw('/', { host });
    expect(page1.status).toBe(200);
  });
});
