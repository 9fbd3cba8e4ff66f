/**
 * `spell train` and its run directory under faults (issue 25): a directory in use by another
 * process, a crash before the first checkpoint, a copied run whose own engine state is gone, a
 * dangling link in the corpus folder.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FAST, SPELL, ROOT, tempDir, tinyModelDir } from './helpers.ts';

/** Run the CLI to completion: exit code and stderr. */
function run(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [SPELL, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), 240_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    }),
  );
}

const steps = (file: string): number[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { step: number }).step);

describe('run directory guards', () => {
  test('a run directory locked by a live process is refused in one line, exit 2', async () => {
    const model = await tinyModelDir();
    const dir = join(tempDir('spell-lock-'), 'r');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, '.lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }),
    );
    const r = await run([
      'train',
      '--model',
      model,
      '--steps',
      '1',
      '--run-dir',
      dir,
      '--no-progress',
      ...FAST,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`spell: ConfigurationError: run directory .* is in use by pid ${process.pid}`),
    );
    expect(readdirSync(dir)).toEqual(['.lock']); // nothing written
  }, 120_000);

  test('a dangling link in the corpus folder is one line, exit 2', async () => {
    const model = await tinyModelDir();
    const corpus = tempDir('spell-corpus-');
    symlinkSync(join(corpus, 'gone.jsonl'), join(corpus, 'broken.jsonl'));
    const r = await run([
      'train',
      '--model',
      model,
      '--data',
      corpus,
      '--steps',
      '1',
      '--run-dir',
      join(corpus, 'run'),
      '--no-progress',
      ...FAST,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^spell: DataError: .*broken\.jsonl: a link to a file that does not exist$/,
    );
  }, 120_000);

  test('resume after a crash before the first checkpoint starts over cleanly; a copied run resumes from its own files only', async () => {
    const model = await tinyModelDir();
    const base = tempDir('spell-crash-');
    const dir = join(base, 'a');
    // What a crash during step 3, before any checkpoint, leaves behind.
    mkdirSync(join(dir, 'rollouts'), { recursive: true });
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step":1}\n{"step":2}\n{"step":3');
    for (const s of [1, 2]) writeFileSync(join(dir, 'rollouts', `step-00000${s}.jsonl`), '{}\n');
    const args = (d: string, n: number) => [
      'train',
      '--model',
      model,
      '--steps',
      String(n),
      '--run-dir',
      d,
      '--no-progress',
      '--resume',
      'checkpointEvery=5',
      ...FAST,
    ];
    const r = await run(args(dir, 1));
    expect(r.code, r.stderr).toBe(0);
    expect(steps(join(dir, 'metrics.jsonl'))).toEqual([1]);
    expect(readdirSync(join(dir, 'rollouts'))).toEqual(['step-000001.jsonl']);
    const controller = JSON.parse(
      readFileSync(join(dir, 'checkpoints', 'step-000001', 'controller.json'), 'utf8'),
    ) as { engineRef: string };
    expect(controller.engineRef).toBe('checkpoints/engine/step-000001');

    // A copy whose engine checkpoint is gone must not silently resume from the original's.
    const copy = join(base, 'b');
    cpSync(dir, copy, { recursive: true });
    rmSync(join(copy, 'checkpoints', 'engine'), { recursive: true, force: true });
    const c = await run(args(copy, 2));
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(join(copy, 'checkpoints', 'engine', 'step-000001'));
    expect(c.stderr).toMatch(/does not exist/);
  }, 300_000);
});
