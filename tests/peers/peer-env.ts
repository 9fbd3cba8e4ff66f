/**
 * Where the Python peers live for the interop tests: `bash peers/setup.sh GROUP` makes
 * `$SPELL_PEERS_HOME/GROUP` (default peers/.venv/GROUP). A test whose peer is not installed is
 * skipped, but fails when SPELL_REQUIRE_PEERS names its group (CI names the groups .ci/run
 * installs; src/model/testing/required-peers.ts), so nothing silently stops being tested.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingPeerMessage, peerRequired } from '../../src/model/testing/required-peers.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The venv folder of a peer group, whether or not it exists. */
export function peerVenv(group: string): string {
  return join(process.env.SPELL_PEERS_HOME ?? join(ROOT, 'peers', '.venv'), group);
}

/**
 * The python of an installed peer group, or undefined (the caller skips) when it is not installed.
 * @throws when SPELL_REQUIRE_PEERS requires the group and it is missing.
 */
export function peerPython(group: string): string | undefined {
  const venv = peerVenv(group);
  const python = join(venv, 'bin', 'python');
  if (existsSync(python) && existsSync(join(venv, '.spell-requirements'))) return python;
  if (peerRequired(group)) {
    throw new Error(missingPeerMessage(group, venv, `bash peers/setup.sh ${group}`));
  }
  return undefined;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a command to completion (killed after `timeoutMs`), collecting its output. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
