/**
 * The screenshots in docs/: the charts and the rollout browser of a running `spell dashboard`,
 * in headless Chromium. The story shown is a question labelled `good` with verifier votes.
 *
 *   node bin/spell.js train --steps 20 --dashboard --dashboard-port 8765 &
 *   npx tsx scripts/dashboard-screenshots.ts http://127.0.0.1:8765/ docs/
 */
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url = 'http://127.0.0.1:8765/', out = 'docs'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.SPELL_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]');
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, 'dashboard-charts.png') });

  // the good question with verifier votes whose cluster is shortest, so the page shows it all
  const api = async <T>(path: string): Promise<T> => (await fetch(new URL(path, url))).json() as T;
  const good = await api<{ rows: { step: number; uid: string }[] }>(
    '/api/runs/0/rollouts?role=questioner&label=good&limit=200',
  );
  let first: { step: number; uid: string } | undefined;
  let fewest = Infinity;
  for (const row of good.rows) {
    const story = await api<{ verifiers: unknown[]; cluster: { documents?: unknown[] } | null }>(
      `/api/runs/0/question?step=${row.step}&uid=${encodeURIComponent(row.uid)}`,
    );
    const docs = story.cluster?.documents?.length ?? Infinity;
    if (story.verifiers.length > 0 && docs < fewest) [first, fewest] = [row, docs];
  }
  if (first === undefined) throw new Error('no good question with verifier votes in run 0 yet');
  await page.evaluate(`location.hash = '#rollouts?run=0&step=${first.step}'`);
  await page.waitForSelector(`#samples tbody tr[data-uid="${first.uid}"]`);
  await page.locator(`#samples tbody tr[data-uid="${first.uid}"][data-role="questioner"]`).click();
  await page.waitForSelector('#story .doc, #story .unavailable');
  await page.evaluate('window.scrollTo(0, 0)');
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, 'dashboard-rollouts.png') });
  // the same story further down: the responder answers and the verifier votes on them
  await page.evaluate(
    "document.querySelector('#story .answer')?.previousElementSibling?.scrollIntoView()",
  );
  await page.waitForTimeout(200);
  await page.locator('#story').screenshot({ path: join(out, 'dashboard-answers.png') });
} finally {
  await browser.close();
}
