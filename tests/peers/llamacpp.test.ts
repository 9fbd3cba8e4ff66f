/**
 * A third-party OpenAI-compatible server: llama.cpp's, through llama-cpp-python (peers group
 * `llamacpp`), serving the real SmolLM2-135M-Instruct GGUF on a free 127.0.0.1 port, started and
 * stopped here. `spell eval --suite synthetic` and `spell generate` run against it with the GGUF
 * itself as `--tokenizer` (the server has no vLLM /tokenize), and the OpenAI engine's n > 1 and
 * seeds are checked on it: the server ignores `n`, so the engine asks once per sample with
 * seed + j (docs/peers.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OpenAiChatEngine } from '../../src/engine/openai/index.ts';
import { smollm2Gguf } from '../../src/model/testing/smollm2.ts';
import { ROOT, peerPython, run } from './peer-env.ts';

const python = peerPython('llamacpp');
const gguf = smollm2Gguf();
const SPELL = join(ROOT, 'bin', 'spell.js');
const MODEL = 'smollm2';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(python === undefined || gguf === null)(
  'spell eval / generate against llama.cpp (llama-cpp-python 0.3.36) serving SmolLM2',
  () => {
    const tmp = mkdtempSync(join(tmpdir(), 'spell-llamacpp-'));
    let server: ChildProcess | undefined;
    let log = '';
    let url = '';

    beforeAll(async () => {
      const port = await freePort();
      // One thread: on a machine as busy as CI's, ggml's thread barriers spin against the other
      // processes and a 2-thread server was 20x slower than a 1-thread one (docs/peers.md).
      server = spawn(
        python!,
        [
          '-m',
          'llama_cpp.server',
          ...['--model', gguf!, '--model_alias', MODEL],
          ...['--host', '127.0.0.1', '--port', String(port)],
          ...['--n_ctx', '2048', '--n_threads', '1', '--n_threads_batch', '1'],
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      server.stdout?.on('data', (b: Buffer) => (log += b.toString()));
      server.stderr?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
      url = `http://127.0.0.1:${port}/v1`;
      for (let i = 0; i < 240; i++) {
        if (server.exitCode !== null) throw new Error(`llama_cpp.server exited:\n${log}`);
        const up = await fetch(`${url}/models`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`llama_cpp.server did not answer within 120 s:\n${log}`);
    }, 150_000);

    afterAll(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise((r) => server!.once('exit', r));
        server.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
      rmSync(tmp, { recursive: true, force: true });
    });

    test('n > 1 and seeds: one request per sample, the same seed reproduces, others differ', async () => {
      const engine = new OpenAiChatEngine({ baseURL: url, model: MODEL, timeoutMs: 120_000 });
      const ask = [{ role: 'user' as const, content: 'Name a colour.' }];
      const params = { n: 3, seed: 11, temperature: 1, maxTokens: 12 };
      const a = await engine.chat(ask, params);
      const b = await engine.chat(ask, params);
      expect(a.choices).toHaveLength(3);
      expect(b.choices).toEqual(a.choices);
      expect(new Set(a.choices.map((c) => c.text)).size).toBeGreaterThan(1);
      for (const c of a.choices) expect(['stop', 'length']).toContain(c.finishReason);
      // The chat template ends a turn with <|im_end|>, the GGUF's EOS: a short answer stops.
      const short = await engine.chat([{ role: 'user', content: 'Say only: yes' }], {
        temperature: 0,
        maxTokens: 48,
      });
      expect(short.choices[0].finishReason).toBe('stop');
      expect(short.choices[0].text).not.toContain('<|im_end|>');
    }, 300_000);

    test('spell eval --suite synthetic with the GGUF as --tokenizer; without it, a one-line error', async () => {
      const out = join(tmp, 'eval');
      const args = [
        'eval',
        ...['--endpoint', url, '--model', MODEL, '--suite', 'synthetic', '--tasks', 'docmath'],
        ...['--limit', '1', '--n', '2', '--max-tokens', '16', '--max-input-len', '256'],
        ...['--concurrency', '1', '--timeout-s', '240', '--out', out, '--no-progress'],
      ];
      const r = await run(process.execPath, [SPELL, ...args, '--tokenizer', gguf!], {
        timeoutMs: 400_000,
      });
      expect(r.code, `${r.stderr}\n${log.slice(-2000)}`).toBe(0);
      const samples = readFileSync(join(out, 'samples.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as { sample: number; seed: number; response: string });
      expect(samples.map((s) => s.sample).sort()).toEqual([0, 1]);
      expect(samples.every((s) => typeof s.response === 'string')).toBe(true);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
        result: { tasks: { task: string; samples: number }[] };
      };
      expect(summary.result.tasks.find((t) => t.task === 'docmath')?.samples).toBe(2);

      const bare = await run(
        process.execPath,
        [SPELL, ...args.map((a) => (a === out ? join(tmp, 'eval-bare') : a))],
        { timeoutMs: 120_000 },
      );
      expect(bare.code).toBe(2);
      expect(bare.stderr).toMatch(/endpoint cannot tokenize .*pass --tokenizer/);
    }, 500_000);

    test('spell generate runs its question slots through the server', async () => {
      const out = join(tmp, 'generate.jsonl');
      const r = await run(
        process.execPath,
        [
          SPELL,
          'generate',
          ...['--endpoint', url, '--model', MODEL, '--out', out, '--tokenizer', gguf!],
          ...['--tasks', 'qa', '--max-attempts', '1', '--group-size', '2', '--votes', '0'],
          ...['--max-tokens', '48', '--max-prompt-tokens', '1200', '--docs-per-question', '1'],
          ...['--concurrency', '1', '--timeout', '240', '--seed', '3', '--no-progress'],
        ],
        { timeoutMs: 500_000 },
      );
      expect(r.code, `${r.stderr}\n${log.slice(-2000)}`).toBe(0);
      const records = readFileSync(`${out}.state.jsonl`, 'utf8')
        .split('\n')
        .slice(1)
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as { slot: number; questionerOutput?: string; status: string });
      expect(records.map((x) => x.slot)).toEqual([0]);
      // Token counts came from the GGUF's tokenizer, not the 4-characters estimate.
      expect(r.stderr).not.toMatch(/ESTIMATED/);
      for (const x of records) expect(x.questionerOutput ?? '').not.toBe('');
    }, 600_000);
  },
);
