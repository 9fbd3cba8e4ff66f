/**
 * spell → SkyRL tx (skyrl-tx 0.3.0, JAX on CPU; peers group `skyrl`): SkyRL's Tinker API server is
 * started here on a free 127.0.0.1 port with the bundled Qwen3 model folder (assets/model, written
 * by `spell model init` + `spell pretrain`; it answers the MC format, so rewards vary and updates
 * happen), and `spell train --engine tinker` runs the static-RLVR loop on four labeled MC
 * questions: once straight to step 2, once killed with SIGKILL during step 2 and resumed.
 *
 * JAX compiles one program per padded shape (90–105 s each on a busy 2-core machine), so the
 * server runs with fixed batch shapes (train micro-batch 1, sampling batch 8), every prompt
 * falls in one length bucket, and the two runs share the server and its compiled programs.
 * JAX's persistent compilation cache lives in the venv, so a second run of this test is fast.
 *
 * What is compared, and why not everything exactly (docs/peers.md): steps, checkpoint names and
 * the sampled tokens of every step are identical — SkyRL seeds each sample (seed + index) and the
 * adapter's initialisation (spell sends the run seed), and the resumed run reloads the step-1
 * weights and Adam state from SkyRL's own checkpoint. Float metrics (loss, grad norm, log-probs)
 * are compared to 1e-4 relative: JAX on CPU is deterministic for one shape, but SkyRL pads a
 * batch to its longest prompt and batches concurrent requests together, so a different mix of
 * requests may round differently.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, peerPython, peerVenv, run } from './peer-env.ts';

const python = peerPython('skyrl');
const SPELL = join(ROOT, 'bin', 'spell.js');
const MODEL = join(ROOT, 'assets', 'model');

const LABELED = [
  {
    id: 'm1',
    task: 'mc',
    kind: 'river',
    documents: ['Ada Vale was born in Kettle.', 'Kettle lies on the river Brisk.'],
    question: 'Which river flows through the town where Ada Vale was born?',
    options: { A: 'Brisk', B: 'Tay', C: 'Ouse', D: 'Nile' },
    answer: 'A',
    evidence: [0, 1],
  },
  {
    id: 'm2',
    task: 'mc',
    kind: 'colour',
    documents: ['The door of the mill is painted green.', 'The mill stands north of Kettle.'],
    question: 'What colour is the door of the mill?',
    options: { A: 'Red', B: 'Green', C: 'Blue', D: 'White' },
    answer: 'B',
    evidence: [0],
  },
  {
    id: 'm3',
    task: 'mc',
    kind: 'year',
    documents: ['The bridge at Kettle opened in 1911.', 'It was rebuilt in 1950.'],
    question: 'When did the bridge at Kettle open?',
    options: { A: '1950', B: '1899', C: '1911', D: '1921' },
    answer: 'C',
    evidence: [0],
  },
  {
    id: 'm4',
    task: 'mc',
    kind: 'person',
    documents: ['Tom Reed keeps the lighthouse.', 'His sister Ann runs the ferry.'],
    question: 'Who runs the ferry?',
    options: { A: 'Tom Reed', B: 'Ada Vale', C: 'Ben Moss', D: 'Ann Reed' },
    answer: 'D',
    evidence: [1],
  },
];

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

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Stop a detached process group: SIGTERM, then SIGKILL after 5 s (uvicorn waits on long polls). */
async function stopGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe.skipIf(python === undefined)(
  'spell train against SkyRL tx 0.3.0, killed and resumed',
  () => {
    const tmp = mkdtempSync(join(tmpdir(), 'spell-skyrl-'));
    let server: ChildProcess | undefined;
    let log = '';
    let base = '';

    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      server = spawn(
        python!,
        [
          '-m',
          'tx.tinker.api',
          ...['--host', '127.0.0.1', '--port', String(port), '--base-model', MODEL],
          ...['--checkpoints-base', join(tmp, 'checkpoints')],
          ...['--database-url', `sqlite:///${join(tmp, 'tinker.db')}`],
          '--backend-config',
          JSON.stringify({
            max_lora_adapters: 4,
            max_lora_rank: 8,
            train_micro_batch_size: 1,
            sample_max_num_sequences: 8,
          }),
        ],
        {
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            // The API server starts its engine with `uv run ...`; peers/skyrl/uv runs it with this
            // venv's python instead (docs/peers.md).
            PATH: `${join(ROOT, 'peers', 'skyrl')}:${process.env.PATH ?? ''}`,
            SKYRL_PYTHON: python!,
            JAX_PLATFORMS: 'cpu',
            JAX_COMPILATION_CACHE_DIR: join(peerVenv('skyrl'), 'jax-cache'),
            JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS: '0',
            PYTHONWARNINGS: 'ignore',
          },
        },
      );
      const keep = (b: Buffer) => (log = (log + b.toString()).slice(-30_000));
      server.stdout?.on('data', keep);
      server.stderr?.on('data', keep);
      // Python and JAX imports take minutes on a loaded machine.
      for (let i = 0; i < 1200; i++) {
        if (server.exitCode !== null) throw new Error(`tx.tinker.api exited:\n${log}`);
        const up = await fetch(`${base}/api/v1/get_server_capabilities`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`tx.tinker.api did not answer within 600 s:\n${log}`);
    }, 660_000);

    afterAll(async () => {
      await stopGroup(server);
      rmSync(tmp, { recursive: true, force: true });
    });

    test('steps, checkpoint names and samples continue exactly; float metrics to 1e-4', async () => {
      const labeled = join(tmp, 'labeled.jsonl');
      writeFileSync(labeled, LABELED.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const args = (dir: string, extra: string[] = []) => [
        SPELL,
        'train',
        ...['--engine', 'tinker', '--base-url', base, '--model', MODEL],
        ...['--run-dir', dir, '--steps', '2', '--seed', '7', '--no-progress'],
        `engine.tokenizer=${MODEL}`,
        'engine.loraRank=4',
        'mode=rlvr',
        `data.labeledPaths=${JSON.stringify([labeled])}`,
        'rollout.responderGroups=2',
        'rollout.groupSize=4',
        'rollout.maxResponseTokens=32',
        'checkpointEvery=1',
        ...extra,
      ];
      const straight = join(tmp, 'straight');
      const a = await run(process.execPath, args(straight), { timeoutMs: 1_500_000 });
      expect(a.code, `${a.stderr}\n${log.slice(-3000)}`).toBe(0);
      expect(a.stderr).toMatch(/sequence-token-mean/); // detected as SkyRL

      const killed = join(tmp, 'killed');
      const child = spawn(process.execPath, args(killed), { stdio: 'ignore' });
      const ckpt = join(killed, 'checkpoints', 'step-000001', 'controller.json');
      const deadline = Date.now() + 1_200_000;
      while (!existsSync(ckpt) && child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      expect(existsSync(ckpt)).toBe(true);
      expect(existsSync(join(killed, 'checkpoints', 'step-000002'))).toBe(false);

      const b = await run(process.execPath, args(killed, ['--resume']), { timeoutMs: 1_500_000 });
      expect(b.code, `${b.stderr}\n${log.slice(-3000)}`).toBe(0);

      // Steps and checkpoint names.
      for (const dir of [straight, killed]) {
        expect(lines(join(dir, 'metrics.jsonl')).map((m) => m.step)).toEqual([1, 2]);
        expect(readFileSync(join(dir, 'checkpoints', 'latest'), 'utf8').trim()).toBe('step-000002');
        const c = JSON.parse(
          readFileSync(join(dir, 'checkpoints', 'step-000002', 'controller.json'), 'utf8'),
        ) as { step: number; engineRef: string };
        expect(c.step).toBe(2);
        expect(c.engineRef).toMatch(/^tinker:\/\/model_[0-9a-f]+\/weights\/step-000002$/);
      }
      // At least one of the two steps trained (not every group had equal rewards).
      const ma = lines(join(straight, 'metrics.jsonl'));
      const mb = lines(join(killed, 'metrics.jsonl'));
      const trainedSteps = ma.filter(
        (m) => typeof m['actor/pg_loss'] === 'number' && !m['count/train/skipped_update'],
      );
      expect(
        trainedSteps.length,
        `updates per step: ${JSON.stringify(ma.map((m) => ({ step: m.step, loss: m['actor/pg_loss'], skipped: m['count/train/skipped_update'], correct: m['count/responder/rule_correct'], answers: m['count/responder/answers'] })))}`,
      ).toBeGreaterThan(0);

      // Samples: the same tokens at every step.
      for (const step of ['step-000001', 'step-000002']) {
        const ra = lines(join(straight, 'rollouts', `${step}.jsonl`)).map((r) => r.text);
        const rb = lines(join(killed, 'rollouts', `${step}.jsonl`)).map((r) => r.text);
        expect(rb).toEqual(ra);
      }
      // Metrics: counts exact, floats to 1e-4 relative, timings ignored.
      for (let i = 0; i < ma.length; i++) {
        for (const [key, va] of Object.entries(ma[i])) {
          if (key.startsWith('timing') || key.startsWith('perf') || key.startsWith('http'))
            continue;
          const vb = mb[i][key];
          if (typeof va === 'number' && typeof vb === 'number' && !Number.isInteger(va)) {
            expect(Math.abs(vb - va), key).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(va)));
          } else {
            expect(vb, key).toEqual(va);
          }
        }
      }
    }, 3_600_000);
  },
);
