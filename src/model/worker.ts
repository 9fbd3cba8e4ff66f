/**
 * The model worker: holds one Qwen3Model off the main thread and serves RunnerRequests in
 * arrival order (the model is single-threaded state; the gemm itself spreads over the cores).
 * Loaded by runner.ts through a tiny bootstrap that registers tsx first.
 *
 * Sample requests are batched: each is prefilled as it arrives, then the decode steps of every
 * request in flight run together (one gemm over all live samples; see sampler.ts), one step per
 * event-loop turn so requests arriving meanwhile join the batch. Any other operation waits until
 * the samples ahead of it have finished (and samples behind it wait for it), so every request
 * still sees the weights it would see if requests ran one at a time — and, the decode being
 * row-stable, the same tokens.
 */
import { parentPort } from 'node:worker_threads';
import { EngineError } from '../core/errors.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { parseQwen3Config, toHfConfigJson } from './config.ts';
import { emptyDecodeScratch } from './decode.ts';
import { gemmBackend, setGemmBackend, setGemmThreads } from './kernels/gemm.ts';
import { loraConfig } from './lora.ts';
import { isPeftAdapter, readPeftAdapterConfig } from './peft.ts';
import { modelInvFreq } from './rope-freq.ts';
import { Qwen3Model } from './model.ts';
import { loadModelFolder } from './model-folder.ts';
import { advanceSamples, sampleDone, sampleResult, startSample } from './sampler.ts';
import type { SampleJob, SamplerContext } from './sampler.ts';
import { PrefillCache } from './prefill-cache.ts';
import { allocWorkspace } from './workspace.ts';
import type { Workspace } from './workspace.ts';
import type {
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
  init: ({ source, gemmBackend: backend, gemmThreads, lora }) => {
    sampler = null;
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
/** Sample requests started and not yet finished. */
let inFlight: { id: number; job: SampleJob }[] = [];
let scheduled = false;

/** Start what may start now: samples always, anything else only when no sample is in flight. */
function admit(): void {
  while (queue.length > 0) {
    const req = queue[0];
    if (req.op === 'sample') {
      queue.shift();
      const { request } = req.payload as RunnerOps['sample']['req'];
      try {
        const job = startSample(samplerFor(need()), request);
        if (sampleDone(job)) post({ id: req.id, ok: true, result: sampleResult(job) });
        else inFlight.push({ id: req.id, job });
      } catch (err) {
        post(errorResponse(req.id, err));
      }
      continue;
    }
    if (inFlight.length > 0) return;
    queue.shift();
    const h = handlers[req.op] as (payload: unknown) => unknown;
    try {
      post({ id: req.id, ok: true, result: h(req.payload) });
    } catch (err) {
      post(errorResponse(req.id, err));
    }
  }
}

/** One turn: admit, then one batched decode step for every request in flight. */
function turn(): void {
  scheduled = false;
  admit();
  if (inFlight.length > 0) {
    try {
      advanceSamples(
        samplerFor(need()),
        inFlight.map((f) => f.job),
      );
      const still: typeof inFlight = [];
      for (const f of inFlight) {
        if (sampleDone(f.job)) post({ id: f.id, ok: true, result: sampleResult(f.job) });
        else still.push(f);
      }
      inFlight = still;
    } catch (err) {
      for (const f of inFlight) post(errorResponse(f.id, err));
      inFlight = [];
    }
  }
  if (inFlight.length > 0 || queue.length > 0) schedule();
}

/** Run `turn` after pending messages have been received (so new requests can join). */
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(turn);
}

parentPort?.on('message', (req: RunnerRequest) => {
  queue.push(req);
  schedule();
});
