/** Shared helpers of the train integration tests: a tiny model folder and CLI runs. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SPELL = join(ROOT, 'bin', 'spell.js');
const run = promisify(execFile);

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function spell(
  args: readonly string[],
  timeoutMs = 240_000,
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [SPELL, ...args], {
    cwd: ROOT,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
}

export function spawnSpell(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [SPELL, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

let tinyModel: Promise<string> | undefined;

/** A tiny random model folder (tokenizer trained on the bundled corpus), made once per file. */
export function tinyModelDir(): Promise<string> {
  tinyModel ??= (async () => {
    const dir = join(tempDir('spell-tiny-model-'), 'model');
    await spell([
      'model',
      'init',
      '--out',
      dir,
      '--vocab-size',
      '600',
      '--hidden-size',
      '32',
      '--layers',
      '1',
      '--heads',
      '2',
      '--kv-heads',
      '1',
      '--intermediate-size',
      '64',
      '--max-positions',
      '4096',
    ]);
    if (!existsSync(join(dir, 'model.safetensors'))) throw new Error('model init wrote no weights');
    return dir;
  })();
  return tinyModel;
}

/** Overrides that keep a training step to a few seconds on the tiny model. */
export const FAST = [
  'rollout.maxResponseTokens=12',
  'rollout.genBatchSize=3',
  'rollout.maxGenBatches=1',
  'rollout.groupSize=2',
];

/** Metrics without wall-clock fields, for comparing runs. */
export function withoutTiming(m: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('timing')));
}
