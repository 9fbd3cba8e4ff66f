/**
 * scripts/miniature.sh end to end on a tiny random model: every arm trains a few steps, every
 * evaluation runs against a real `spell serve`, and the table and plots are written. (The real
 * experiment runs for 30 minutes per arm; this checks the plumbing, not the result.)
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { FAST, ROOT, tempDir, tinyModelDir } from '../train/helpers.ts';

const run = promisify(execFile);

describe('scripts/miniature.sh', () => {
  test('baseline, SPELL and RLVR arms with a midpoint evaluation each, then table and plots', async () => {
    const model = await tinyModelDir();
    const out = join(tempDir('spell-miniature-'), 'exp');
    const { stdout } = await run('bash', ['scripts/miniature.sh'], {
      cwd: ROOT,
      timeout: 400_000,
      env: {
        ...process.env,
        MODEL: model,
        OUT: out,
        MINUTES: '0',
        STEPS: '4',
        CHECKPOINT_EVERY: '1',
        MID_EVALS: '1',
        LIMIT: '1',
        N: '2',
        SPELL_ARGS: FAST.join(' '),
        RLVR_ARGS: FAST.join(' '),
      },
    });
    expect(stdout).toContain('[4/4] table');
    for (const dir of [
      'eval-baseline',
      'eval-spell',
      'eval-spell-step-3',
      'eval-rlvr',
      'eval-rlvr-step-3',
    ]) {
      expect(existsSync(join(out, dir, 'summary.json')), dir).toBe(true);
    }
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/\| baseline \| - \|/);
    expect(md).toMatch(/\| spell \| 4 \|/);
    expect(md).toMatch(/\| rlvr \| 4 \|/);
    const html = readFileSync(join(out, 'results.html'), 'utf8');
    const mean = html.slice(html.indexOf('aria-label="Held-out accuracy, mean'));
    // baseline (step 0), the step-3 checkpoint and the final one (step 4), for each of two arms
    expect(mean.slice(0, mean.indexOf('</svg>')).match(/<circle class="point"/g)).toHaveLength(6);
    expect(existsSync(join(out, 'spell', 'report.html'))).toBe(true);
  }, 420_000);
});
