/**
 * The model worker: holds one Qwen3Model off the main thread and serves RunnerRequests in
 * arrival order (the model is single-threaded state; the gemm itself spreads over the cores).
 * Loaded by runner.ts through a tiny bootstrap that registers tsx first.
 *
 * Sample requests are batched: each is prefilled as it arrives, then the decode steps of every
 * request in flight run together (one gemm over all live samples; see sampler.ts), one step per
 * event-loop turn so requests arriving meanwhile join the batch — and a cancel message stops a
 * request between two steps. Any other operation waits until the samples ahead of it have
 * finished (and samples behind it wait for it), so every request still sees the weights it would
 * see if requests ran one at a time — and, the decode being row-stable, the same tokens.
 *
 * KV memory: a request starts when its first caches fit the budget of the shared ledger
 * (kv-ledger.ts) next to what every worker holds; a decode step whose cache growth does not fit
 * preempts the youngest request (its caches are freed and recomputed when memory allows), so the
 * caches never exceed the budget.
 */
import { parentPort } from 'node:worker_threads';
import { EngineError } from '../core/errors.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { parseQwen3Config, toHfConfigJson } from './config.ts';
import { emptyDecodeScratch, kvBytesPerPosition } from './decode.ts';
import { gemmBackend, setGemmBackend, setGemmThreads } from './kernels/gemm.ts';
import { loraConfig } from './lora.ts';
import { isPeftAdapter, readPeftAdapterConfig } from './peft.ts';
import { modelInvFreq } from './rope-freq.ts';
import { Qwen3Model } from './model.ts';
import { loadModelFolder } from './model-folder.ts';
import { KvLedger } from './kv-ledger.ts';
import {
  advanceSamples,
  firstKvPositions,
  jobKvBytes,
  nextGrowthBytes,
  preemptSample,
  resumeKvBytes,
  resumeSample,
  sampleDone,
  sampleResult,
  startSample,
  stepGrowthBytes,
  validateSampleRequest,
  worstKvPositions,
} from './sampler.ts';
import type { SampleJob, SamplerContext } from './sampler.ts';
import { PrefillCache } from './prefill-cache.ts';
import { allocWorkspace } from './workspace.ts';
import type { Workspace } from './workspace.ts';
import type {
  RunnerControl,
  RunnerModelInfo,
  RunnerOp,
  RunnerOps,
  RunnerRequest,
  RunnerResponse,
} from './protocol.ts';

let model: Qwen3Model | null = null;
let sampler: SamplerContext | null = null;

function need(): Qwen3Model {
  if (!model) throw new EngineError('model worker: no model loaded (init was not called)');
  return model;
}

function info(m: Qwen3Model): RunnerModelInfo {
  return {
    hfConfig: toHfConfigJson(m.config),
    paramCount: m.table.totalSize,
    optimizerStep: m.optimizerStep,
    loraRank: m.lora?.table.config.rank ?? 0,
    gemmBackend: gemmBackend(),
  };
}

/** The sampling context of the current model: its own grow-only prefill workspace and scratch. */
function samplerFor(m: Qwen3Model): SamplerContext {
  if (sampler && sampler.views === m.samplingViews) return sampler;
  const c = m.config;
  let ws: Workspace | null = null;
  const workspaceFor = (T: number): Workspace => {
    if (!ws || ws.cap < T) {
      const cap = Math.min(c.maxPositions, Math.max(T, ws ? ws.cap * 2 : 16));
      ws = null; // let the old buffers go before allocating the new ones
      ws = allocWorkspace(c, cap, true);
    }
    return ws;
  };
  sampler = {
    config: c,
    views: m.samplingViews,
    workspaceFor,
    invFreq: modelInvFreq(c),
    scratch: emptyDecodeScratch(),
    prefills: new PrefillCache(c),
  };
  return sampler;
}

type Handlers = {
  [K in Exclude<RunnerOp, 'sample'>]: (req: RunnerOps[K]['req']) => RunnerOps[K]['res'];
};

const handlers: Handlers = {
  init: ({ source, gemmBackend: backend, gemmThreads, lora, ledger: shared }) => {
    sampler = null;
    if (shared) ledger = new KvLedger(shared);
    if (backend) setGemmBackend(backend);
    if (gemmThreads) setGemmThreads(gemmThreads);
    model =
      source.kind === 'folder'
        ? loadModelFolder(source.dir)
        : Qwen3Model.random(parseQwen3Config(source.hfConfig, 'random model config'), source.seed);
    if (lora) model.enableLora(loraConfig(lora));
    return info(model);
  },
  info: () => info(need()),
  forward: ({ data, loss, config }) => need().forward(data, loss, config),
  forwardBackward: ({ data, loss, config }) => need().forwardBackward(data, loss, config),
  optimStep: ({ adam }) => {
    sampler?.prefills?.clear();
    return { ...need().optimStep(adam) };
  },
  save: ({ dir, adapter, tokenizerDir }) => {
    saveCheckpoint(dir, need(), adapter, tokenizerDir);
    return { dir };
  },
  load: ({ dir }) => {
    sampler?.prefills?.clear();
    const m = need();
    // A full engine that loads an adapter checkpoint (e.g. a sampling session on a LoRA
    // checkpoint) becomes a LoRA engine on its base; a LoRA engine must match the adapter.
    if (!m.lora && isPeftAdapter(dir)) m.enableLora(readPeftAdapterConfig(dir).config);
    return { adapter: loadCheckpoint(dir, m) };
  },
  spin: ({ ms }) => {
    const end = Date.now() + ms;
    let n = 0;
    while (Date.now() < end) n++;
    return { spun: n };
  },
};

function errorResponse(id: number, err: unknown): RunnerResponse {
  const e = err instanceof Error ? err : new Error(String(err));
  return { id, ok: false, errorName: e.name, message: e.message };
}

function post(res: RunnerResponse): void {
  parentPort?.postMessage(res);
}

/** Requests not yet started, in arrival order. */
const queue: RunnerRequest[] = [];

/** A sample request that has started. */
interface Started {
  readonly id: number;
  readonly job: SampleJob;
  /** Age across every worker of the process (the ledger's ticket): lower is older. */
  readonly ticket: number;
  /** Bytes its caches hold, as claimed in the ledger. */
  held: number;
}

/** Started requests decoding together. */
let running: Started[] = [];
/** Started requests whose caches were freed to stay within the KV budget, oldest first. */
const preempted: Started[] = [];
let scheduled = false;
/** When the only running request started waiting for memory another worker holds. */
let pausedSince: number | undefined;
let pauseLimitMs = 0;

/** Memory and token counters shared with the parent (and its other workers); see kv-ledger.ts. */
let ledger = KvLedger.create();

function release(s: Started): void {
  ledger.release(s.held);
  s.held = 0;
}

function finish(s: Started): void {
  release(s);
  post({ id: s.id, ok: true, result: sampleResult(s.job) });
}

function generated(job: SampleJob): number {
  let n = 0;
  for (const seq of job.seqs) n += seq.tokens.length;
  return n;
}

/** Free a started request's caches; it resumes (recomputed) when memory allows, before new ones. */
function preempt(s: Started): void {
  running = running.filter((r) => r !== s);
  preemptSample(s.job);
  release(s);
  ledger.countPreempted();
  let at = preempted.findIndex((p) => p.ticket > s.ticket);
  if (at < 0) at = preempted.length;
  preempted.splice(at, 0, s);
}

/**
 * Claim `want` bytes for a request about to start, if they fit the budget next to what is held
 * and the next growth of the running requests (so that starting it does not preempt another at
 * once: without that room a resumed request could be preempted again at every step).
 */
function reserveStart(c: SamplerContext['config'], want: number): boolean {
  const headroom = nextGrowthBytes(
    c,
    running.map((s) => s.job),
  );
  if (!ledger.tryReserve(want + headroom)) return false;
  ledger.release(headroom);
  return true;
}

/**
 * Start what may start now, oldest first: preempted requests, then queued samples whose first
 * caches fit the KV budget next to what is held; anything else only when no sample is started.
 * @returns false when a request waits for memory (held by this worker's or another's samples)
 */
function admit(): boolean {
  while (preempted.length > 0) {
    const s = preempted[0];
    const ctx = samplerFor(need());
    const want = resumeKvBytes(ctx.config, s.job);
    if (!reserveStart(ctx.config, want)) return false;
    preempted.shift();
    try {
      resumeSample(ctx, s.job);
    } catch (err) {
      ledger.release(want);
      post(errorResponse(s.id, err));
      continue;
    }
    s.held = jobKvBytes(ctx.config, s.job);
    ledger.release(want - s.held);
    running.push(s);
  }
  while (queue.length > 0) {
    const req = queue[0];
    if (req.op === 'sample') {
      const { request } = req.payload as RunnerOps['sample']['req'];
      let want: number;
      let ctx: SamplerContext;
      try {
        ctx = samplerFor(need());
        validateSampleRequest(ctx.config, request);
        want = firstKvPositions(ctx.config, request) * kvBytesPerPosition(ctx.config);
        const worst = worstKvPositions(ctx.config, request) * kvBytesPerPosition(ctx.config);
        if (worst > ledger.budgetBytes) {
          // It could start, but never finish: it would be preempted and wait forever.
          throw new EngineError(
            `sample request needs up to ${worst} bytes of KV cache (samples × (prompt + maxTokens) positions), more than the budget of ${ledger.budgetBytes}`,
          );
        }
      } catch (err) {
        queue.shift();
        post(errorResponse(req.id, err));
        continue;
      }
      if (!reserveStart(ctx.config, want)) return false;
      queue.shift();
      let job: SampleJob;
      try {
        job = startSample(ctx, request);
      } catch (err) {
        ledger.release(want);
        post(errorResponse(req.id, err));
        continue;
      }
      ledger.countTokens(generated(job));
      const s: Started = { id: req.id, job, ticket: ledger.nextTicket(), held: want };
      const held = jobKvBytes(ctx.config, job);
      ledger.release(want - held);
      s.held = held;
      if (sampleDone(job)) finish(s);
      else running.push(s);
      continue;
    }
    if (running.length > 0 || preempted.length > 0) return true;
    queue.shift();
    const h = handlers[req.op] as (payload: unknown) => unknown;
    try {
      post({ id: req.id, ok: true, result: h(req.payload) });
    } catch (err) {
      post(errorResponse(req.id, err));
    }
  }
  return true;
}

/**
 * Claim the memory the next decode step grows the caches by. While it does not fit, the youngest
 * running request is preempted; the last one left waits instead (the memory is held by another
 * worker's samples), and after a short random wait preempts itself so that two workers waiting on
 * each other cannot both stall.
 * @returns the bytes claimed, or undefined when no step may run now
 */
function claimStep(c: SamplerContext['config']): number | undefined {
  for (;;) {
    const growth = stepGrowthBytes(
      c,
      running.map((s) => s.job),
    );
    if (ledger.tryReserve(growth)) {
      pausedSince = undefined;
      return growth;
    }
    if (running.length > 1) {
      preempt(running.reduce((a, b) => (b.ticket > a.ticket ? b : a)));
      continue;
    }
    const now = Date.now();
    if (pausedSince === undefined) {
      pausedSince = now;
      pauseLimitMs = 250 + Math.random() * 750;
    } else if (now - pausedSince > pauseLimitMs) {
      pausedSince = undefined;
      preempt(running[0]);
    }
    return undefined;
  }
}

/** One turn: admit, then one batched decode step for every running request. */
function turn(): void {
  scheduled = false;
  admit();
  let stepped = false;
  if (running.length > 0) {
    const ctx = samplerFor(need());
    const growth = claimStep(ctx.config);
    if (growth !== undefined) {
      stepped = true;
      const before = running.reduce((n, s) => n + s.held, 0);
      const rows = running.reduce((n, s) => n + s.job.active.length, 0);
      try {
        advanceSamples(
          ctx,
          running.map((s) => s.job),
        );
        ledger.countTokens(rows);
        let after = 0;
        for (const s of running) {
          s.held = jobKvBytes(ctx.config, s.job);
          after += s.held;
        }
        // Claimed: before + growth; held now: after (finished samples freed theirs).
        ledger.release(before + growth - after);
        const still: Started[] = [];
        for (const s of running) {
          if (sampleDone(s.job)) finish(s);
          else still.push(s);
        }
        running = still;
      } catch (err) {
        ledger.release(growth);
        for (const s of running) {
          release(s);
          post(errorResponse(s.id, err));
        }
        running = [];
      }
    }
  }
  const waiting = running.length > 0 || preempted.length > 0 || queue.length > 0;
  // No step ran: the requests wait for memory another worker holds; poll gently, do not spin.
  if (waiting) schedule(stepped ? 0 : 10);
}

/** Run `turn` after pending messages have been received (so new requests and cancels arrive). */
function schedule(delayMs = 0): void {
  if (scheduled) return;
  scheduled = true;
  if (delayMs > 0) setTimeout(turn, delayMs);
  else setImmediate(turn);
}

/**
 * Stop a sample request whose caller went away: dropped from the queue, or its caches freed
 * between two decode steps. Its answer is an error nobody waits for.
 */
function cancel(id: number): void {
  const answer = (): void =>
    post({ id, ok: false, errorName: 'EngineError', message: 'sample request cancelled' });
  const q = queue.findIndex((r) => r.id === id && r.op === 'sample');
  if (q >= 0) {
    queue.splice(q, 1);
    ledger.countCancelled();
    answer();
    return;
  }
  for (const list of [running, preempted]) {
    const i = list.findIndex((s) => s.id === id);
    if (i >= 0) {
      const [s] = list.splice(i, 1);
      release(s);
      ledger.countCancelled();
      answer();
      schedule(); // what waited for its memory may start
      return;
    }
  }
}

parentPort?.on('message', (msg: RunnerRequest | RunnerControl) => {
  if ('cancel' in msg) {
    cancel(msg.cancel);
    return;
  }
  queue.push(msg);
  schedule();
});
