/**
 * A long-lived peer benchmark process (peers/bench/model_peer.py under a peer venv's python),
 * driven one JSON command per line. Keeping the peer alive lets `spell bench model` interleave
 * spell's runs with the peer's under the same machine load. Benchmark-only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** One answer line of the peer script. */
export type PeerAnswer = Readonly<Record<string, unknown>>;

/** The python of peer group `group` ($SPELL_PEERS_HOME/GROUP, default peers/.venv/GROUP). */
export function peerPython(peersHome: string, group: string): string | null {
  const py = join(peersHome, group, 'bin', 'python');
  return existsSync(py) ? py : null;
}

export class PeerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffered = '';
  private readonly waiting: ((line: string) => void)[] = [];
  private stderrTail = '';
  private exited = false;

  constructor(python: string, script: string) {
    // Passive OpenMP waits: on a shared, oversubscribed machine spinning threads only steal the
    // cores their own job needs (this helps the peer, never slows it on an idle machine much).
    this.child = spawn(python, [script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    this.child.on('exit', () => {
      this.exited = true;
      const tail = this.stderrTail.trim().split('\n').slice(-1)[0] ?? '';
      for (const w of this.waiting.splice(0)) {
        w(JSON.stringify({ error: `peer process exited${tail ? `: ${tail}` : ''}` }));
      }
    });
  }

  /** Send one command and wait for its answer (no timeout: a long prefill is legitimate). */
  request(cmd: Readonly<Record<string, unknown>>): Promise<PeerAnswer> {
    if (this.exited) return Promise.resolve({ error: 'peer process has exited' });
    return new Promise((resolve) => {
      this.waiting.push((line) => {
        try {
          resolve(JSON.parse(line) as PeerAnswer);
        } catch {
          resolve({ error: `unreadable peer answer: ${line.slice(0, 200)}` });
        }
      });
      this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  /** Close stdin (the script then exits) and wait for the exit. */
  async close(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}
