import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, test } from 'vitest';
import { FAST, spell, spawnSpell, tempDir, tinyModelDir } from './helpers.ts';

let server: ChildProcess | undefined;

/** Start `spell serve` on a free loopback port; resolves with its base URL and model name. */
async function startServe(model: string): Promise<{ url: string; name: string }> {
  const child = spawnSpell(['serve', model, '--port', '0']);
  server = child;
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`spell serve did not start: ${err}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+) \(model ([^)]+)\)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], name: m[2] });
      }
    });
    child.once('exit', (code) => reject(new Error(`spell serve exited with ${code}: ${err}`)));
  });
}

afterAll(() => {
  server?.kill('SIGTERM');
});

describe('spell train through the Tinker client', () => {
  test('the same loop runs against spell serve, checkpoints tinker:// state and resumes', async () => {
    const model = await tinyModelDir();
    const { url, name } = await startServe(model);
    const run = join(tempDir('spell-tinker-run-'), 'r');
    const args = [
      'train',
      '--engine',
      'tinker',
      '--base-url',
      url,
      '--model',
      name,
      '--run-dir',
      run,
      '--no-progress',
      `engine.tokenizer=${model}`,
      ...FAST,
    ];
    const first = await spell([...args, '--steps', '2']);
    expect(first.stderr).toMatch(/engine tinker/);
    const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(metrics.map((l) => JSON.parse(l).step)).toEqual([1, 2]);
    const controller = JSON.parse(
      readFileSync(join(run, 'checkpoints', 'step-000002', 'controller.json'), 'utf8'),
    );
    expect(controller.engineRef).toMatch(/^tinker:\/\//);
    // the local engine's checkpoint folder is not used on a remote engine
    expect(existsSync(join(run, 'checkpoints', 'engine'))).toBe(false);

    await spell([...args, '--steps', '3', '--resume']);
    const after = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(after.map((l) => JSON.parse(l).step)).toEqual([1, 2, 3]);
  }, 300_000);

  test('a tinker engine without a reachable server fails clearly', async () => {
    const run = join(tempDir('spell-tinker-run-'), 'r');
    await expect(
      spell(
        [
          'train',
          '--engine',
          'tinker',
          '--base-url',
          'http://127.0.0.1:9',
          '--model',
          'x',
          '--run-dir',
          run,
          '--steps',
          '1',
          '--no-progress',
          'engine.tokenizer=assets/model',
        ],
        120_000,
      ),
    ).rejects.toThrow(/127\.0\.0\.1:9/);
  }, 300_000);
});
