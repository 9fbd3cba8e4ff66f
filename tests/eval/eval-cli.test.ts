/**
 * `spell eval` end to end: the real CLI against `spell serve assets/model` (a child process on a
 * free loopback port), on the synthetic suite with a small --limit. Covers an interrupted run
 * (SIGKILL mid-run) resumed with --resume, a judge endpoint that fails on purpose (an in-process
 * node:http server: permanent 500s for one question, a transient 503 before every first answer),
 * re-judging those failures on resume, and the clear error when no tokenizer is available.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultModelDir, packageRoot } from '../../src/assets.ts';
import { loadSynthetic } from '../../src/eval/index.ts';

const ROOT = packageRoot();
const tmp = mkdtempSync(join(tmpdir(), 'spell-eval-cli-'));
let serve: { url: string; child: ChildProcess } | undefined;
let judge: Server | undefined;
let judgeUrl = '';

// The fake judge's behaviour, switched by the tests.
const judgeState = {
  healthy: false,
  seen: new Set<string>(),
  transient: 0,
  permanent: 0,
  answered: 0,
};
const failingQuestion = loadSynthetic().find((q) => q.task === 'qa')?.question ?? '';

function startServe(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/spell.js'), 'serve', defaultModelDir(), '--port', '0'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('spell serve did not start in 30 s')), 30_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`spell serve exited with ${code}`));
    });
  });
}

function startJudge(): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      const parsed = JSON.parse(body) as { messages: { content: string }[] };
      const content = parsed.messages[0].content;
      if (!judgeState.healthy && content.includes(failingQuestion)) {
        judgeState.permanent++;
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"judge down"}');
        return;
      }
      const hash = createHash('sha256').update(body).digest('hex');
      if (!judgeState.seen.has(hash)) {
        judgeState.seen.add(hash);
        judgeState.transient++;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
        return;
      }
      judgeState.answered++;
      const verdict =
        content.includes('Ground Truth Answer: ') && !content.includes(failingQuestion);
      const reply = {
        id: 'j',
        object: 'chat.completion',
        created: 0,
        model: 'judge',
        choices: [
          {
            index: 0,
            finish_reason: 'stop',
            message: {
              role: 'assistant',
              content: `Explanation: checked.\nDecision: ${verdict ? '[[YES]]' : '[[NO]]'}`,
            },
          },
        ],
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runCli(args: readonly string[], killWhen?: () => boolean): Promise<CliRun> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/spell.js'), 'eval', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const poll = killWhen
    ? setInterval(() => {
        if (killWhen()) child.kill('SIGKILL');
      }, 50)
    : undefined;
  const hard = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(hard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

interface Line {
  task: string;
  id: string;
  sample: number;
  response: string;
  judge: { status: string } | null;
}
const lines = (file: string): Line[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Line];
          } catch {
            return []; // a line cut by the kill
          }
        })
    : [];

interface TaskOut {
  task: string;
  questions: number;
  complete: number;
  samples: number;
  avg: number;
  judge: { needed: number; ok: number; failed: number; notRun: number };
}
const summaryOf = (dir: string): { result: { tasks: TaskOut[] } } =>
  JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { result: { tasks: TaskOut[] } };

beforeAll(async () => {
  serve = await startServe();
  judge = await startJudge();
  judgeUrl = `http://127.0.0.1:${(judge.address() as AddressInfo).port}/v1`;
}, 40_000);

afterAll(async () => {
  if (serve && serve.child.exitCode === null) {
    const exited = new Promise((r) => serve?.child.once('exit', r));
    serve.child.kill('SIGTERM');
    await exited;
  }
  await new Promise((r) => (judge ? judge.close(r) : r(undefined)));
  rmSync(tmp, { recursive: true, force: true });
});

const common = (out: string): string[] => [
  '--endpoint',
  serve?.url ?? '',
  '--model',
  'model',
  '--suite',
  'synthetic',
  '--n',
  '2',
  '--max-tokens',
  '4',
  '--max-input-len',
  '192',
  '--out',
  out,
  '--no-progress',
];

describe('spell eval against spell serve', () => {
  test('a run killed mid-way and resumed ends with every sample exactly once', async () => {
    const out = join(tmp, 'resume');
    const file = join(out, 'samples.jsonl');
    const args = [
      ...common(out),
      '--limit',
      '2',
      '--concurrency',
      '1',
      '--tokenizer',
      defaultModelDir(),
    ];
    const killed = await runCli(args, () => lines(file).length >= 3);
    expect(killed.signal).toBe('SIGKILL');
    const before = lines(file);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(12);

    const refused = await runCli(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already holds results; pass --resume/);

    const resumed = await runCli([...args, '--resume']);
    expect(resumed.stderr).not.toMatch(/unexpected error/);
    expect(resumed.code).toBe(0);
    const after = lines(file);
    const keys = after.map((r) => `${r.task}/${r.id}/${r.sample}`);
    expect(keys).toHaveLength(12);
    expect(new Set(keys).size).toBe(12);
    // samples finished before the kill are kept, not regenerated
    for (const r of before) {
      expect(
        after.find((a) => a.task === r.task && a.id === r.id && a.sample === r.sample)?.response,
      ).toBe(r.response);
    }
    const tasks = summaryOf(out).result.tasks;
    expect(tasks.map((t) => [t.task, t.questions, t.complete, t.samples])).toEqual([
      ['docmath', 2, 2, 4],
      ['qa', 2, 2, 4],
      ['mc', 2, 2, 4],
    ]);
    expect(resumed.stdout).toMatch(/\| docmath \| 2\/2 \|/);
    expect(readFileSync(join(out, 'summary.html'), 'utf8')).toContain('<svg');
  }, 200_000);

  test('judge failures are retried, counted and reported, then re-judged on resume without new generations', async () => {
    const out = join(tmp, 'judge');
    const args = [
      ...common(out),
      '--tasks',
      'docmath,qa',
      '--limit',
      '1',
      '--retries',
      '1',
      '--judge-endpoint',
      judgeUrl,
      '--judge-model',
      'judge',
    ];
    judgeState.healthy = false;
    const first = await runCli(args);
    expect(first.stderr).not.toMatch(/unexpected error/);
    expect(first.code).toBe(0);
    const s1 = new Map(summaryOf(out).result.tasks.map((t) => [t.task, t]));
    // docmath: noise answers fail the rule, the judge says YES after one transient 503
    expect(s1.get('docmath')?.judge).toEqual({
      needed: 2,
      ok: 2,
      failed: 0,
      notRun: 0,
      invalid: 0,
      parserDisagreements: 0,
    });
    expect(s1.get('docmath')?.avg).toBe(1);
    // qa: the judge is down for this question → counted as failures, not silently judged
    expect(s1.get('qa')?.judge).toMatchObject({ needed: 2, ok: 0, failed: 2 });
    expect(first.stdout).toMatch(/2 judge call\(s\) failed after retries/);
    expect(judgeState.transient).toBeGreaterThan(0);
    expect(judgeState.permanent).toBeGreaterThanOrEqual(2);
    const generated = lines(join(out, 'samples.jsonl')).map((r) => r.response);

    judgeState.healthy = true;
    const second = await runCli([...args, '--resume']);
    expect(second.code).toBe(0);
    const s2 = new Map(summaryOf(out).result.tasks.map((t) => [t.task, t]));
    expect(s2.get('qa')?.judge).toMatchObject({ needed: 2, ok: 2, failed: 0 });
    const after = lines(join(out, 'samples.jsonl'));
    expect(after.map((r) => r.response)).toEqual(generated);
    expect(after.every((r) => r.judge?.status === 'ok')).toBe(true);
  }, 200_000);

  test('an endpoint without /tokenize and no --tokenizer is a clear error', async () => {
    const out = join(tmp, 'notok');
    const run = await runCli([
      '--endpoint',
      judgeUrl,
      '--model',
      'm',
      '--suite',
      'synthetic',
      '--limit',
      '1',
      '--out',
      out,
      '--no-progress',
      '--retries',
      '0',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot tokenize .*pass --tokenizer/);
  }, 60_000);
  test('a server answering HTTP 200 without "choices": counted and named, exit 2, no crash', async () => {
    const broken = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/v1`;
    const out = join(tmp, 'nochoices');
    try {
      const run = await runCli([
        ...['--endpoint', url, '--model', 'm', '--suite', 'synthetic', '--tasks', 'qa'],
        ...['--limit', '2', '--n', '1', '--tokenizer', defaultModelDir(), '--retries', '0'],
        ...['--out', out, '--no-progress'],
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).not.toMatch(/TypeError|unexpected error|\n\s+at /);
      expect(run.stderr).toMatch(
        /2 sample\(s\) failed to generate \(first: qa \S+ sample 0: http:\/\/127\.0\.0\.1:\d+\/v1\/completions answered HTTP 200 but without "choices"\)/,
      );
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
        generationFailures: number;
      };
      expect(summary.generationFailures).toBe(2);
      expect(lines(join(out, 'samples.jsonl'))).toEqual([]);
    } finally {
      await new Promise((r) => broken.close(r));
    }
  }, 60_000);
});

describe('spell eval on the paper suite', () => {
  test('runs all six benchmarks from files in their publishers’ formats against spell serve', async () => {
    const data = join(tmp, 'paper-data');
    const put = (rel: string, text: string): void => {
      mkdirSync(join(data, rel, '..'), { recursive: true });
      writeFileSync(join(data, rel), text);
    };
    const jsonl = (rows: readonly unknown[]): string =>
      rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    // yale-nlp/DocMath-Eval testmini subsets (JSON arrays)
    for (const [i, sub] of ['complong', 'compshort', 'simplong', 'simpshort'].entries()) {
      put(
        `docmath/${sub}_testmini.json`,
        JSON.stringify([
          {
            question_id: `dm${i}`,
            question: 'What was the revenue growth in percent?',
            paragraphs: ['Revenue was 100 in 2021 and 110 in 2022.'],
            ground_truth: 10,
          },
        ]),
      );
    }
    // Tongyi-Zhiwen/frames (JSONL with wiki_items)
    put(
      'frames/test.jsonl',
      jsonl([
        {
          Prompt: 'In which town was Ada Vale born?',
          Answer: 'Kettle',
          wiki_items: [{ title: 'Ada Vale', text: 'Ada Vale was born in Kettle.' }],
        },
      ]),
    );
    // THUDM/LongBench data.zip layout
    for (const task of ['2wikimqa', 'hotpotqa', 'musique']) {
      put(
        `longbench/data/${task}.jsonl`,
        jsonl([
          {
            input: 'Which river runs through Kettle?',
            context: 'Kettle lies on the river Brisk.',
            answers: ['Brisk'],
            _id: `${task}-1`,
          },
        ]),
      );
    }
    // THUDM/LongBench-v2 data.json
    put(
      'longbench-v2/data.json',
      JSON.stringify([
        {
          _id: 'lb2-1',
          domain: 'Single-Document QA',
          sub_domain: 'x',
          difficulty: 'easy',
          length: 'short',
          question: 'Which river?',
          choice_A: 'Brisk',
          choice_B: 'Tay',
          choice_C: 'Ouse',
          choice_D: 'Nile',
          answer: 'A',
          context: 'Kettle lies on the river Brisk.',
        },
      ]),
    );
    const out = join(tmp, 'paper-out');
    const run = await runCli([
      '--endpoint',
      serve?.url ?? '',
      '--model',
      'model',
      '--suite',
      'paper',
      '--data-dir',
      data,
      '--n',
      '2',
      '--max-tokens',
      '4',
      '--max-input-len',
      '192',
      '--out',
      out,
      '--no-progress',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const tasks = summaryOf(out).result.tasks;
    expect(tasks.map((t) => t.task).sort()).toEqual(
      ['2wikimqa', 'docmath', 'frames', 'hotpotqa', 'longbench-v2', 'musique'].sort(),
    );
    for (const t of tasks) {
      expect(t.complete).toBe(t.task === 'docmath' ? 4 : 1);
      expect(t.samples).toBe(2 * t.complete);
    }
    expect(lines(join(out, 'samples.jsonl'))).toHaveLength(2 * 9);
  }, 150_000);
});
