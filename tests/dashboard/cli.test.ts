/** `spell dashboard` and `spell train --dashboard` on bad input: one line, exit code 2. */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { ROOT, SPELL, tempDir } from '../train/helpers.ts';

const run = promisify(execFile);

async function failing(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [SPELL, ...args], { cwd: ROOT, timeout: 120_000 });
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`spell ${args.join(' ')} succeeded`);
}

describe('spell dashboard on bad input', () => {
  test('a missing run directory, a file, a bad port and a busy port are one-line errors (exit 2)', async () => {
    const dir = tempDir('spell-dash-cli-');
    const file = join(dir, 'file.txt');
    writeFileSync(file, 'x');
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const address = busy.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const cases: [string[], RegExp][] = [
        [['dashboard', join(dir, 'nope')], /run directory .*nope does not exist/],
        [['dashboard', file], /is not a directory/],
        [['dashboard', dir, '--port', 'abc'], /--port must be an integer in 0\.\.65535, got "abc"/],
        [
          ['dashboard', dir, '--port', String(port)],
          new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`),
        ],
        [
          ['train', '--dashboard', '--dashboard-port', '70000'],
          /--dashboard-port must be an integer in 0\.\.65535, got "70000"/,
        ],
      ];
      for (const [args, message] of cases) {
        const { code, stderr } = await failing(args);
        expect(code, args.join(' ')).toBe(2);
        expect(stderr.trim().split('\n')).toHaveLength(1);
        expect(stderr).toMatch(message);
      }
    } finally {
      busy.close();
    }
  });
});
