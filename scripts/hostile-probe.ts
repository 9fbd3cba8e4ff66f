/**
 * Probe `spell serve` as issue 25 did, and print JSON figures (latency, RSS) per probe.
 * Runs against any spell checkout, so the same probes give the before/after figures:
 *
 *   npx tsx scripts/hostile-probe.ts [--root <spell checkout>] [--probe name,...]
 *
 * Each probe starts its own `spell serve` on the bundled model (127.0.0.1, free port, checkpoints
 * in a temporary folder) and stops it at the end. RSS is the serve process's VmRSS from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const ROOT = resolve(opt('--root', fileURLToPath(new URL('..', import.meta.url))));
const PROBES = opt('--probe', 'bigChat,bigSample,manyModels,webPage,busyPort,sigterm').split(',');
const MODEL = join(ROOT, 'assets/model');

const rssMb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Served {
  url: string;
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

interface Answer {
  status: number;
  ms: number;
  text: string;
}

function serve(extra: string[] = []): Promise<Served> {
  const ckpt = mkdtempSync(join(tmpdir(), 'spell-probe-'));
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/spell.js'), 'serve', MODEL, '--port', '0', '--checkpoint-dir', ckpt, ...extra],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise<Served>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`serve did not start: ${err}`)), 300_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res({
          url: m[1],
          child,
          pid: child.pid!,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGKILL');
            await sleep(100);
            rmSync(ckpt, { recursive: true, force: true });
          },
        });
      }
    });
    child.once('exit', (code: number | null) => {
      clearTimeout(t);
      rej(new Error(`serve exited ${code}: ${err.slice(0, 300)}`));
    });
  });
}

const post = async (
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Answer> => {
  const t0 = performance.now();
  try {
    const r = await fetch(url + path, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, ms: performance.now() - t0, text };
  } catch (e) {
    return { status: -1, ms: performance.now() - t0, text: String(e) };
  }
};

async function healthLatencies(url: string, until: { done: boolean }): Promise<number[]> {
  const lat: number[] = [];
  while (!until.done) {
    const t0 = performance.now();
    try {
      await fetch(`${url}/health`).then((r) => r.text());
    } catch {
      // a dropped keep-alive socket: the wait still counts
    }
    lat.push(performance.now() - t0);
    await sleep(50);
  }
  return lat;
}

async function withRssPeak<T>(
  pid: number,
  fn: () => Promise<T>,
): Promise<{ result: T; peak: number }> {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  try {
    return { result: await fn(), peak };
  } finally {
    clearInterval(timer);
  }
}

const probes: Record<string, () => Promise<unknown>> = {
  /** Item 1: a 50 MB chat message (the size, under the 64 MiB body limit) while health checks run. */
  async bigChat() {
    const s = await serve();
    try {
      const pid = s.pid;
      const before = rssMb(pid);
      // Serialised before the health checks start: stringifying 50 MB stalls this process's own
      // event loop, which would count against the server.
      const body = JSON.stringify({
        messages: [{ role: 'user', content: 'word '.repeat(10_000_000) }],
        max_tokens: 1,
      });
      const until = { done: false };
      const health = healthLatencies(s.url, until);
      const { result, peak } = await withRssPeak(pid, () =>
        post(s.url, '/v1/chat/completions', body),
      );
      until.done = true;
      const lat = await health;
      await sleep(2000);
      return {
        status: result.status,
        chat_ms: Math.round(result.ms),
        health_max_ms: Math.round(Math.max(...lat)),
        rss_mb: { before, peak: Math.max(peak, rssMb(pid)), after_2s: rssMb(pid) },
      };
    } finally {
      await s.stop();
    }
  },
  /** Item 2: asample with 1024 samples of up to 4095 tokens, 10 s observed. */
  async bigSample() {
    const s = await serve();
    try {
      const pid = s.pid;
      const before = rssMb(pid);
      const t0 = performance.now();
      const r = await post(s.url, '/api/v1/asample', {
        base_model: 'model',
        prompt: { chunks: [{ type: 'encoded_text', tokens: [1, 2, 3] }] },
        num_samples: 1024,
        sampling_params: { max_tokens: 4095, temperature: 1 },
      });
      let peak = before;
      while (performance.now() - t0 < 10_000) {
        peak = Math.max(peak, rssMb(pid));
        await sleep(100);
      }
      return { status: r.status, answer: r.text.slice(0, 160), rss_mb: { before, peak_10s: peak } };
    } finally {
      await s.stop();
    }
  },
  /** Item 6: 20 create_model calls. */
  async manyModels() {
    const s = await serve();
    try {
      const pid = s.pid;
      const before = rssMb(pid);
      const sess = JSON.parse(
        (await post(s.url, '/api/v1/create_session', { tags: [], sdk_version: '0.24.1' })).text,
      ) as { session_id: string };
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await post(s.url, '/api/v1/create_model', {
          session_id: sess.session_id,
          model_seq_id: i,
          base_model: 'model',
          lora_config: { rank: 4 },
        });
        statuses.push(r.status);
      }
      await sleep(3000);
      const threads = Number(
        /Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1],
      );
      return { statuses: summarize(statuses), rss_mb: { before, after: rssMb(pid) }, threads };
    } finally {
      await s.stop();
    }
  },
  /** Item 7: what a web page can send (text/plain, foreign Origin, rebinding Host). */
  async webPage() {
    const s = await serve();
    try {
      const simple = await post(s.url, '/api/v1/create_session', '{"tags":[]}', {
        'content-type': 'text/plain',
        origin: 'http://evil.example',
      });
      const plain = await post(s.url, '/api/v1/create_session', '{"tags":[]}', {
        'content-type': 'text/plain',
      });
      // fetch() replaces a Host header with the URL's own, so the rebinding probe uses node:http.
      const rebound = await new Promise<number>((res) => {
        const u = new URL(s.url);
        const req = request(
          {
            host: u.hostname,
            port: u.port,
            path: '/api/v1/create_session',
            method: 'POST',
            headers: { 'content-type': 'application/json', host: 'evil.example' },
          },
          (r) => {
            r.resume();
            r.on('end', () => res(r.statusCode ?? 0));
          },
        );
        req.on('error', () => res(-1));
        req.end('{"tags":[]}');
      });
      return {
        text_plain_foreign_origin: simple.status,
        text_plain: plain.status,
        foreign_host: rebound,
      };
    } finally {
      await s.stop();
    }
  },
  /** Item 5: a second server on the same port. */
  async busyPort() {
    const s = await serve();
    try {
      const port = new URL(s.url).port;
      const t0 = performance.now();
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin/spell.js'), 'serve', MODEL, '--port', port],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await Promise.race([
        new Promise<number | null>((r) => child.once('exit', (c: number | null) => r(c))),
        sleep(20_000).then(() => 'hang'),
      ]);
      if (code === 'hang') child.kill('SIGKILL');
      return {
        exit: code,
        ms: Math.round(performance.now() - t0),
        stderr_lines: err.trim().split('\n').length,
      };
    } finally {
      await s.stop();
    }
  },
  /**
   * Cancellation: a long chat completion whose client hangs up after 1 s, then a 1-token request.
   * Its latency, against a 1-token request on an idle server, shows how long the abandoned
   * sampling kept the model busy; `/stats` (when the server has it) counts the tokens directly.
   */
  async cancel() {
    const s = await serve();
    try {
      const pid = s.pid;
      const stats = async (): Promise<Record<string, number> | undefined> => {
        const r = await fetch(`${s.url}/stats`).catch(() => undefined);
        return r?.ok ? ((await r.json()) as Record<string, number>) : undefined;
      };
      const short = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 };
      const idle = await post(s.url, '/v1/chat/completions', short);
      const before = rssMb(pid);
      const ctl = new AbortController();
      const long = fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          messages: [{ role: 'user', content: 'hi' }],
          n: 16,
          max_tokens: 3000,
          temperature: 1,
        }),
        signal: ctl.signal,
      }).catch(() => undefined);
      await sleep(1500);
      const rssAtAbort = rssMb(pid);
      const atAbort = await stats();
      ctl.abort();
      await long;
      const after = await post(s.url, '/v1/chat/completions', short);
      await sleep(500);
      const settled = await stats();
      return {
        idle_short_ms: Math.round(idle.ms),
        short_after_abort_ms: Math.round(after.ms),
        rss_mb: { before, at_abort: rssAtAbort, after_500ms: rssMb(pid) },
        ...(atAbort && settled
          ? {
              tokens_at_abort: atAbort.tokens_generated,
              tokens_after_abort: settled.tokens_generated - atAbort.tokens_generated - 1,
              requests_cancelled: settled.requests_cancelled,
              kv_in_use_bytes: settled.kv_in_use_bytes,
            }
          : {}),
      };
    } finally {
      await s.stop();
    }
  },
  /**
   * KV admission: 32 concurrent asamples of 2,000 tokens each under a 16 MiB KV budget (each needs
   * 4 MiB at its worst): how many are admitted, the RSS peak, and (with /stats) the KV peak.
   */
  async kvMany() {
    const s = await serve(['--kv-budget-mb', '16']);
    try {
      const pid = s.pid;
      const before = rssMb(pid);
      const t0 = performance.now();
      const { result, peak } = await withRssPeak(pid, async () => {
        const submitted = await Promise.all(
          Array.from({ length: 32 }, (_, i) =>
            post(s.url, '/api/v1/asample', {
              base_model: 'model',
              prompt: { chunks: [{ type: 'encoded_text', tokens: [1, 2, 3] }] },
              num_samples: 1,
              sampling_params: { max_tokens: 2000, temperature: 1, seed: i },
            }),
          ),
        );
        const done = await Promise.all(
          submitted
            .filter((r) => r.status === 200)
            .map(async (r) => {
              const id = (JSON.parse(r.text) as { request_id: string }).request_id;
              for (;;) {
                const f = await post(s.url, '/api/v1/retrieve_future', { request_id: id });
                const j = JSON.parse(f.text) as {
                  type?: string;
                  sequences?: { tokens: number[] }[];
                };
                if (j.type !== 'try_again') return j.sequences?.[0]?.tokens.length ?? -1;
              }
            }),
        );
        return { statuses: summarize(submitted.map((r) => r.status)), lengths: summarize(done) };
      });
      const st = await fetch(`${s.url}/stats`).catch(() => undefined);
      return {
        ...result,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
        rss_mb: { before, peak },
        ...(st?.ok ? { stats: await st.json() } : {}),
      };
    } finally {
      await s.stop();
    }
  },
  /** Low: SIGTERM while a large asample computes. */
  async sigterm() {
    const s = await serve();
    try {
      await post(s.url, '/api/v1/asample', {
        base_model: 'model',
        prompt: { chunks: [{ type: 'encoded_text', tokens: [1, 2, 3] }] },
        num_samples: 64,
        sampling_params: { max_tokens: 2000, temperature: 1 },
      });
      await sleep(1000);
      const t0 = performance.now();
      s.child.kill('SIGTERM');
      const code = await Promise.race([
        new Promise<number | string | null>((r) =>
          s.child.once('exit', (c: number | null, sig: string | null) => r(c ?? sig)),
        ),
        sleep(30_000).then(() => 'alive after 30 s'),
      ]);
      return { exit: code, ms_to_exit: Math.round(performance.now() - t0) };
    } finally {
      await s.stop();
    }
  },
};

function summarize(xs: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

const results: Record<string, unknown> = { root: ROOT };
for (const name of PROBES) {
  try {
    const probe = probes[name];
    if (!probe) throw new Error(`unknown probe ${name}`);
    results[name] = await probe();
  } catch (e) {
    results[name] = { error: String(e) };
  }
  process.stderr.write(`${name}: ${JSON.stringify(results[name])}\n`);
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
