// Bad command lines through the real launcher: exit code 2 and one line on stderr, no stack trace.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function spell(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'spell.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('usage errors', () => {
  test.each([
    [['train', '--steps', 'abc'], /--steps must be an integer, got "abc"/],
    [
      ['train', '--run-dir', 'package.json'],
      /--run-dir package\.json exists and is not a directory/,
    ],
    [['train', '--stepz', '3'], /unknown option '--stepz'/],
    [['no-such-command'], /unknown command/],
    [
      ['export', 'assets/model', '--out', 'never-written', '--format', 'onnx'],
      /--format must be one of hf, gguf, got "onnx"/,
    ],
  ])('spell %j', (args, message) => {
    const r = spell(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});
