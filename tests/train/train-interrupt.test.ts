import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { FAST, spawnSpell, tempDir, tinyModelDir } from './helpers.ts';

/** Wait (bounded) for a file to appear; false on timeout or when the child exits first. */
async function waitFor(path: string, child: ChildProcess, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > deadline || child.exitCode !== null) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function collect(child: ChildProcess): { out: () => string; done: Promise<number | null> } {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const done = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return { out: () => text, done };
}

describe('stopping spell train', () => {
  test('Ctrl-C stops after the current step with a checkpoint of it', async () => {
    const model = await tinyModelDir();
    const run = join(tempDir('spell-int-'), 'r');
    const child = spawnSpell([
      'train',
      '--model',
      model,
      '--steps',
      '50',
      '--run-dir',
      run,
      '--no-progress',
      'checkpointEvery=100',
      ...FAST,
    ]);
    const log = collect(child);
    expect(await waitFor(join(run, 'metrics.jsonl'), child, 180_000)).toBe(true);
    child.kill('SIGINT');
    const code = await log.done;
    expect(code).toBe(130); // interrupted: not a success, though the stop was clean
    expect(log.out()).toMatch(/stopping after this step/);
    expect(log.out()).toMatch(/train interrupted after step \d+; continue with --resume/);
    const steps = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
    expect(steps).toBeLessThan(50);
    // the interrupted run checkpointed its last completed step although checkpointEvery is 100
    const latest = readFileSync(join(run, 'checkpoints', 'latest'), 'utf8').trim();
    expect(latest).toBe(`step-${String(steps).padStart(6, '0')}`);
  }, 300_000);

  test('an engine that dies mid-run stops training with a clear error and the last checkpoint intact', async () => {
    const model = await tinyModelDir();
    const server = spawnSpell(['serve', model, '--port', '0']);
    const serverLog = collect(server);
    const deadline = Date.now() + 60_000;
    let url = '';
    let name = '';
    while (url === '' && Date.now() < deadline) {
      const m = /listening on (\S+) \(model ([^)]+)\)/.exec(serverLog.out());
      if (m) [url, name] = [m[1], m[2]];
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(url).not.toBe('');
    const run = join(tempDir('spell-die-'), 'r');
    const child = spawnSpell([
      'train',
      '--engine',
      'tinker',
      '--base-url',
      url,
      '--model',
      name,
      '--run-dir',
      run,
      '--steps',
      '50',
      '--no-progress',
      `engine.tokenizer=${model}`,
      'checkpointEvery=1',
      ...FAST,
    ]);
    const log = collect(child);
    try {
      const ckpt = join(run, 'checkpoints', 'step-000001', 'controller.json');
      expect(await waitFor(ckpt, child, 180_000)).toBe(true);
      server.kill('SIGKILL');
      const code = await log.done;
      expect(code).not.toBe(0);
      expect(log.out()).toMatch(/RemoteEngineError|ECONNREFUSED|connect/);
      const controller = JSON.parse(readFileSync(ckpt, 'utf8'));
      expect(controller.step).toBe(1);
    } finally {
      child.kill('SIGKILL');
      server.kill('SIGKILL');
    }
  }, 300_000);
});
