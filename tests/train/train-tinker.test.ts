import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

let proxy: Server | undefined;
let serveUrl = '';
let serveName = '';

afterAll(() => {
  server?.kill('SIGTERM');
  proxy?.close();
});

/**
 * A proxy on 127.0.0.1 in front of spell serve that behaves like a Tinker server without spell's
 * extension: capabilities without `loss_fn_config_keys`, and a 400 for a `temperature` key in
 * loss_fn_config (as SkyRL refuses unknown keys).
 */
async function startPlainTinkerProxy(target: string): Promise<string> {
  const t = new URL(target);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.length > 0 && /"loss_fn_config":\{[^}]*"temperature"/.test(body.toString())) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: 'unknown loss_fn_config key temperature' }));
        return;
      }
      const up = request(
        { host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers },
        (ur) => {
          const out: Buffer[] = [];
          ur.on('data', (c: Buffer) => out.push(c));
          ur.on('end', () => {
            let payload = Buffer.concat(out);
            if (req.url?.includes('get_server_capabilities')) {
              const caps = JSON.parse(payload.toString()) as Record<string, unknown>;
              delete caps.loss_fn_config_keys;
              payload = Buffer.from(JSON.stringify(caps));
            }
            const headers = { ...ur.headers, 'content-length': String(payload.length) };
            res.writeHead(ur.statusCode ?? 502, headers);
            res.end(payload);
          });
        },
      );
      up.end(body);
    });
  });
  await new Promise<void>((r) => proxy?.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(proxy?.address() as AddressInfo).port}`;
}

describe('spell train through the Tinker client', () => {
  test('the same loop runs against spell serve, checkpoints tinker:// state and resumes', async () => {
    const model = await tinyModelDir();
    const { url, name } = await startServe(model);
    [serveUrl, serveName] = [url, name];
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
    // spell serve applies the learner temperature (it advertises the loss_fn_config key).
    expect(first.stderr).not.toMatch(/cannot apply the learner temperature/);
    expect(JSON.parse(metrics[0])['actor/logprob_temperature']).toBe(0.7);
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

  test('a server that cannot apply the learner temperature: said once, recorded in config and metrics', async () => {
    const model = await tinyModelDir();
    if (!serveUrl) [serveUrl, serveName] = Object.values(await startServe(model));
    const base = await startPlainTinkerProxy(serveUrl);
    const run = join(tempDir('spell-tinker-plain-'), 'r');
    const res = await spell([
      'train',
      '--engine',
      'tinker',
      '--base-url',
      base,
      '--model',
      serveName,
      '--run-dir',
      run,
      '--no-progress',
      '--steps',
      '1',
      `engine.tokenizer=${model}`,
      ...FAST,
    ]);
    expect(res.stderr.match(/cannot apply the learner temperature/g)).toHaveLength(1);
    expect(readFileSync(join(run, 'config.yaml'), 'utf8')).toMatch(/logprobTemperature: raw/);
    const m = JSON.parse(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim());
    expect(m['actor/logprob_temperature']).toBe(1);
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
