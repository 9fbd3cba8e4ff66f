/**
 * `spell eval` and `spell generate` against an OpenAI-compatible endpoint that stalls: a real HTTP
 * server on 127.0.0.1 that accepts every request and never answers (mode 'silent'), or sends the
 * headers and half a body and then nothing (mode 'mid-body', which the SDK's own timer alone would
 * wait on for ever). Each command must give up after its timeout and bounded retries, exit 2, and
 * say which endpoint did not answer within which timeout. (The normal path against a real server:
 * tests/peers/llamacpp.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, run } from '../peers/peer-env.ts';

const SPELL = join(ROOT, 'bin', 'spell.js');
const TOKENIZER = join(ROOT, 'assets', 'model');

let server: Server;
let url = '';
let mode: 'silent' | 'mid-body' = 'silent';
const seen: string[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'spell-stall-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.resume();
    if (mode === 'mid-body') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      res.write('{"id":"cmpl-1","object":"text_completion","choices":[');
    }
    // Never ends: the client's abort closes the socket, afterAll closes the rest.
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('a stalled OpenAI-compatible endpoint', () => {
  test.each(['silent', 'mid-body'] as const)(
    'spell eval (%s): exit 2 naming the endpoint and the timeout, after bounded retries',
    async (m) => {
      mode = m;
      seen.length = 0;
      const r = await run(
        process.execPath,
        [
          SPELL,
          'eval',
          ...['--endpoint', url, '--model', 'm', '--suite', 'synthetic', '--tasks', 'docmath'],
          ...['--limit', '1', '--n', '1', '--max-tokens', '8', '--concurrency', '1'],
          ...['--retries', '1', '--timeout-s', '2', '--tokenizer', TOKENIZER],
          ...['--out', join(tmp, `eval-${m}`), '--no-progress'],
        ],
        { timeoutMs: 240_000 },
      );
      expect(r.code, r.stderr).toBe(2);
      const last = r.stderr.trim().split('\n').at(-1) ?? '';
      expect(last).toContain(
        `${url}/completions did not answer within the 2 s timeout (each of 2 attempts)`,
      );
      expect(last).toMatch(/^spell: EvalError: 1 sample\(s\) failed to generate/);
      // One sample, one retry: at most two requests. (Under heavy load the first attempt's timer
      // may run out before its request is even written, so the server may see only the retry.)
      expect(seen.length).toBeGreaterThanOrEqual(1);
      expect(seen.length).toBeLessThanOrEqual(2);
      expect(new Set(seen)).toEqual(new Set(['POST /v1/completions']));
    },
    300_000,
  );

  test('spell generate: a run whose every slot timed out exits 2 with the reason', async () => {
    mode = 'silent';
    seen.length = 0;
    const out = join(tmp, 'gen.jsonl');
    const r = await run(
      process.execPath,
      [
        SPELL,
        'generate',
        ...['--endpoint', url, '--model', 'm', '--out', out, '--tokenizer', TOKENIZER],
        ...['--tasks', 'qa', '--max-attempts', '1', '--group-size', '2', '--votes', '0'],
        ...['--max-tokens', '8', '--concurrency', '1', '--retries', '1', '--timeout', '2'],
        '--no-progress',
      ],
      { timeoutMs: 240_000 },
    );
    expect(r.code, r.stderr).toBe(2);
    const last = r.stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(/^spell: RemoteEngineError: every question slot of this run \(1\) failed/);
    expect(last).toContain(
      `${url}/chat/completions did not answer within the 2 s timeout (each of 2 attempts)`,
    );
    expect(last).toContain('re-run with --resume');
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.length).toBeLessThanOrEqual(2);
  }, 300_000);
});
