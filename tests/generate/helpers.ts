/** Shared helpers of the `spell generate` integration tests: CLI runs and `spell serve`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { QuestionRecord } from '../../src/generate/index.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const SPELL = join(ROOT, 'bin', 'spell.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawn the CLI; `done` resolves when it exits (killed after `timeoutMs`). */
export function spawnSpell(
  args: readonly string[],
  timeoutMs = 150_000,
): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [SPELL, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliRun>((resolvePromise) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

export function runSpell(args: readonly string[], timeoutMs?: number): Promise<CliRun> {
  return spawnSpell(args, timeoutMs).done;
}

/** The question records of a state file (header skipped; a torn last line ignored). */
export function stateRecords(file: string): QuestionRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as QuestionRecord];
      } catch {
        return [];
      }
    });
}

export interface Serve {
  readonly url: string;
  stop(): Promise<void>;
}

/** `spell serve` of the bundled model on a free loopback port (30 s to start). */
export function startServe(): Promise<Serve> {
  const { child } = spawnSpell(['serve', '--port', '0'], 600_000);
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const stop = (): Promise<void> =>
    new Promise<void>((resolvePromise) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
      const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(hard);
        resolvePromise();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`spell serve did not start within 30 s; stderr: ${stderr}`));
    }, 30_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ url: m[1].replace(/\/$/, ''), stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`spell serve exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
}

/** Wait until `check` holds, polling every 100 ms (throws after `timeoutMs`). */
export async function waitFor(
  check: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
