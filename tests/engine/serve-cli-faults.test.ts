/**
 * `spell serve` as a process under faults (issue 25): a busy port and an empty --api-key are one
 * line and exit 2; SIGTERM during a long sampling request ends the process (it does not finish the
 * abandoned computation first); the checkpoint folder is printed at start.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = join(ROOT, 'assets/model');

interface Proc {
  readonly url: Promise<string>;
  readonly exit: Promise<number | string>;
  stderr(): string;
  kill(sig: NodeJS.Signals): void;
}

function serve(args: readonly string[]): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'bin/spell.js'), 'serve', MODEL, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | string>((r) =>
    child.once('exit', (code, sig) => r(code ?? sig ?? 'unknown')),
  );
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void exit.then(() => reject(new Error(`serve exited: ${err}`)));
  });
  url.catch(() => undefined);
  // Bounded: nothing here outlives the test.
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void exit.then(() => clearTimeout(guard));
  return { url, exit, stderr: () => err, kill: (sig) => child.kill(sig) };
}

describe('spell serve faults', () => {
  test('a busy port is one line and exit 2; SIGTERM mid-sample ends the server', async () => {
    const first = serve(['--port', '0']);
    const url = await first.url;
    expect(first.stderr()).toMatch(/checkpoints go to \S+serve-checkpoints\/model/);

    const second = serve(['--port', new URL(url).port]);
    expect(await second.exit).toBe(2);
    const lines = second.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^spell: ConfigurationError: port \d+ on 127\.0\.0\.1 is already in use/,
    );

    // The port is checked before the model is loaded: a folder that is no model does not matter.
    const early = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/spell.js'),
        'serve',
        join(ROOT, 'no-such-model'),
        '--port',
        new URL(url).port,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let earlyErr = '';
    early.stderr.on('data', (b: Buffer) => (earlyErr += b.toString()));
    expect(await new Promise((r) => early.once('exit', r))).toBe(2);
    expect(earlyErr).toMatch(/is already in use/);

    // 64 samples × 2000 tokens: far longer than the test waits.
    const r = await fetch(`${url}/api/v1/asample`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        base_model: 'model',
        prompt: { chunks: [{ type: 'encoded_text', tokens: [5, 6, 7] }] },
        num_samples: 64,
        sampling_params: { max_tokens: 2000, temperature: 1 },
      }),
    });
    expect(r.status).toBe(200);
    await new Promise((res) => setTimeout(res, 500));
    first.kill('SIGTERM');
    expect(await first.exit).toBe(0);
  }, 120_000);

  test('an empty --api-key is refused with one line, exit 2', async () => {
    const p = serve(['--port', '0', '--api-key', '']);
    expect(await p.exit).toBe(2);
    expect(p.stderr().trim()).toMatch(/^spell: ConfigurationError: the API key is empty/);
  }, 60_000);
});
