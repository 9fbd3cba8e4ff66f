/**
 * Sampling with a KV cache, one request at a time or many together. A request is started by
 * `startSample`: its prompt is prefilled once (the training forward; the rotated keys and values
 * seed every sample's cache) and each sample draws its first token. Then `advanceSamples` moves
 * every live sample of every started request forward by one token in a single batched decode step
 * (decode.ts), until `sampleDone`. Finished samples leave the batch.
 *
 * Determinism: sample i of a request draws from its own stream Rng(seed + i), and its logits do
 * not depend on which other rows share a decode step, so same seed + weights + prompt → same
 * tokens, whether the request runs alone (`sampleSequences`) or batched with others.
 */
import { EngineError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { SampleRequest, SampleResult, StopReason } from '../core/policy-types.ts';
import type { Qwen3Config } from './config.ts';
import { forwardSequence } from './forward.ts';
import {
  allocSampleCache,
  copyCachePrefix,
  copySampleCache,
  decodeRows,
  emptyDecodeScratch,
  fillCacheLayer,
  grownLength,
  kvBytesPerPosition,
} from './decode.ts';
import type { DecodeRow, DecodeScratch, SampleCache } from './decode.ts';
import { gemmRows } from './kernels/gemm.ts';
import type { PrefillCache, PrefillEntry } from './prefill-cache.ts';
import type { ModelViews } from './params.ts';
import { chooseToken, topLogprobs } from './sampling-filter.ts';
import type { TokenFilter } from './sampling-filter.ts';
import type { Workspace } from './workspace.ts';

/**
 * Validate a sample request against the model.
 * @throws EngineError naming the field and the bad value
 */
export function validateSampleRequest(c: Qwen3Config, req: SampleRequest): void {
  const fail = (msg: string): never => {
    throw new EngineError(`sample request: ${msg}`);
  };
  const { prompt, numSamples, params } = req;
  if (prompt.length === 0) fail('prompt is empty (at least one token is needed)');
  if (prompt.length >= c.maxPositions) {
    fail(`prompt has ${prompt.length} tokens, the model's limit is ${c.maxPositions - 1}`);
  }
  for (let i = 0; i < prompt.length; i++) {
    const t = prompt[i];
    if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) {
      fail(`prompt[${i}] = ${t} is not a token id in [0, ${c.vocabSize})`);
    }
  }
  if (!Number.isInteger(numSamples) || numSamples < 1)
    fail(`numSamples = ${numSamples}, expected an integer ≥ 1`);
  if (!Number.isInteger(params.maxTokens) || params.maxTokens < 0)
    fail(`maxTokens = ${params.maxTokens}, expected an integer ≥ 0`);
  if (!(params.temperature >= 0) || !Number.isFinite(params.temperature))
    fail(`temperature = ${params.temperature}, expected ≥ 0`);
  if (!(params.topP > 0 && params.topP <= 1))
    fail(`topP = ${params.topP}, expected a number in (0, 1]`);
  if (!Number.isInteger(params.topK))
    fail(`topK = ${params.topK}, expected an integer (-1 or 0 disables)`);
  const k = req.topLogprobs ?? 0;
  if (!Number.isInteger(k) || k < 0 || k > 20)
    fail(`topLogprobs = ${k}, expected an integer in [0, 20]`);
  const pk = req.promptLogprobs?.topK ?? 0;
  if (!Number.isInteger(pk) || pk < 0 || pk > 20)
    fail(`promptLogprobs.topK = ${pk}, expected an integer in [0, 20]`);
  if (params.seed !== undefined && !Number.isInteger(params.seed))
    fail(`seed = ${params.seed}, expected an integer`);
  for (const seq of params.stopSequences ?? []) {
    if (seq.length === 0) fail('stopSequences contains an empty sequence');
  }
}

/** Generated positions a sample's KV cache has room for at first. */
const FIRST_GENERATED = 64;

/** What sampling needs from the model: weights, a prefill workspace, RoPE frequencies, scratch. */
export interface SamplerContext {
  readonly config: Qwen3Config;
  readonly views: ModelViews;
  /** A workspace with capacity ≥ T (the prefill runs in it). */
  readonly workspaceFor: (T: number) => Workspace;
  readonly invFreq: Float64Array;
  readonly scratch: DecodeScratch;
  /** Recent prefills to reuse (cleared by the owner whenever the weights change); none: always prefill. */
  readonly prefills?: PrefillCache;
}

interface SampleSeq {
  tokens: number[];
  logprobs: number[];
  stopReason: StopReason;
  topLogprobs?: [number, number][][];
}

/** One request in flight. */
export interface SampleJob {
  /** Prompt length P. */
  readonly prompt: number;
  /** The prompt's tokens (a preempted request is recomputed from them). */
  readonly promptTokens: readonly number[];
  readonly genCap: number;
  readonly seqs: SampleSeq[];
  readonly rngs: Rng[];
  readonly caches: SampleCache[];
  readonly filter: TokenFilter;
  readonly stopIds: ReadonlySet<number>;
  readonly stopSeqs: readonly (readonly number[])[];
  /** How many top log-probabilities to keep per sampled token (0: none). */
  readonly keepTop: number;
  /** Samples still generating. */
  active: number[];
  promptLogprobs?: (number | null)[];
  promptTopLogprobs?: [number, number][][];
}

/**
 * Validate and start a request: prefill the prompt, seed the caches, draw each sample's first
 * token (all from the last prompt position's logits).
 * @throws EngineError on an invalid request (see validateSampleRequest)
 */
export function startSample(ctx: SamplerContext, req: SampleRequest): SampleJob {
  const c = ctx.config;
  validateSampleRequest(c, req);
  const { prompt, numSamples: S, params } = req;
  const P = prompt.length;
  const genCap = Math.min(params.maxTokens, c.maxPositions - P);
  const seed = params.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const keepTop = req.topLogprobs ?? 0;
  const job: SampleJob = {
    prompt: P,
    promptTokens: prompt,
    genCap,
    seqs: Array.from({ length: S }, () => ({
      tokens: [],
      logprobs: [],
      stopReason: 'length',
      ...(keepTop > 0 ? { topLogprobs: [] } : {}),
    })),
    rngs: Array.from({ length: S }, (_, i) => new Rng((seed + i) >>> 0)),
    caches: [],
    filter: { temperature: params.temperature, topK: params.topK, topP: params.topP },
    stopIds: new Set(params.stopTokenIds ?? []),
    stopSeqs: params.stopSequences ?? [],
    keepTop,
    active: [],
  };
  if (genCap === 0 && !req.promptLogprobs) return job;

  const C = c.hiddenSize;
  const V = c.vocabSize;
  const KD = c.numKvHeads * c.headDim;
  // Prompt log-probabilities need the prefill's hidden states, so such a request always prefills.
  const kept = req.promptLogprobs ? undefined : ctx.prefills?.get(prompt);
  const from: { kept: PrefillEntry } | { ws: Workspace } = kept
    ? { kept }
    : { ws: ctx.workspaceFor(P) };
  if ('ws' in from) {
    forwardSequence(c, ctx.views, from.ws, prompt, P, ctx.invFreq);
    if (req.promptLogprobs) scorePrompt(ctx, job, from.ws, prompt, req.promptLogprobs.topK);
  }
  if (genCap === 0) return job;
  // Room for the prompt and the first generated tokens only; decoding grows it (decode.ts).
  const first = allocSampleCache(c, P + Math.min(genCap, FIRST_GENERATED), P + genCap);
  // The first distribution is shared: logits of the last prompt position.
  let logits: Float32Array;
  if ('kept' in from) {
    copyCachePrefix(c, from.kept.cache, first, P);
    logits = from.kept.logits;
  } else {
    const ws = from.ws;
    for (let l = 0; l < c.numLayers; l++) {
      fillCacheLayer(c, first, l, ws.layers[l].k.subarray(0, P * KD), ws.layers[l].v, P);
    }
    logits = new Float32Array(V);
    gemmRows(
      false,
      true,
      1,
      V,
      C,
      ws.xf.subarray((P - 1) * C, P * C),
      ctx.views.lmHead,
      logits,
      false,
    );
    ctx.prefills?.put(prompt, first, logits);
  }
  job.caches.push(first);
  for (let s = 1; s < S; s++) {
    const cache = allocSampleCache(c, first.len, first.max);
    copySampleCache(first, cache);
    job.caches.push(cache);
  }
  const probs = new Float64Array(V);
  for (let s = 0; s < S; s++) {
    if (!draw(job, s, logits, 0, probs)) job.active.push(s);
    else job.caches[s] = emptyCache();
  }
  return job;
}

/** A cache holding nothing: what a finished or preempted sample keeps. */
function emptyCache(): SampleCache {
  return { k: [], v: [], len: 0, max: 0 };
}

/** Sample positions of a request's first caches (what `startSample` allocates; 0 when none). */
export function firstKvPositions(c: Qwen3Config, req: SampleRequest): number {
  const P = req.prompt.length;
  const genCap = Math.min(req.params.maxTokens, c.maxPositions - P);
  if (genCap <= 0) return 0;
  return req.numSamples * (P + Math.min(genCap, FIRST_GENERATED));
}

/** Sample positions a request's caches may reach: samples × (prompt + generation cap). */
export function worstKvPositions(c: Qwen3Config, req: SampleRequest): number {
  const P = req.prompt.length;
  return req.numSamples * (P + Math.max(0, Math.min(req.params.maxTokens, c.maxPositions - P)));
}

/** Bytes the KV caches of a job hold now. */
export function jobKvBytes(c: Qwen3Config, job: SampleJob): number {
  let positions = 0;
  for (const cache of job.caches) positions += cache.len;
  return positions * kvBytesPerPosition(c);
}

/** Bytes the caches of these jobs grow by in their next `advanceSamples` step. */
export function stepGrowthBytes(c: Qwen3Config, jobs: readonly SampleJob[]): number {
  let positions = 0;
  for (const job of jobs) {
    for (const s of job.active) {
      const cache = job.caches[s];
      const pos = job.prompt + job.seqs[s].tokens.length - 1;
      positions += grownLength(cache, pos) - cache.len;
    }
  }
  return positions * kvBytesPerPosition(c);
}

/**
 * Bytes the caches of these jobs take when each grows once more: the headroom to keep free when
 * starting another request, so that starting it does not force a preemption at the next growth.
 */
export function nextGrowthBytes(c: Qwen3Config, jobs: readonly SampleJob[]): number {
  let positions = 0;
  for (const job of jobs) {
    for (const s of job.active) {
      const cache = job.caches[s];
      if (cache.len < cache.max) positions += grownLength(cache, cache.len) - cache.len;
    }
  }
  return positions * kvBytesPerPosition(c);
}

/**
 * Free every cache of a job whose samples have not finished (it stays resumable: its tokens and
 * random streams are kept, and `resumeSample` rebuilds the caches).
 */
export function preemptSample(job: SampleJob): void {
  for (let s = 0; s < job.caches.length; s++) job.caches[s] = emptyCache();
}

/** Bytes `resumeSample` allocates for a preempted job. */
export function resumeKvBytes(c: Qwen3Config, job: SampleJob): number {
  let positions = 0;
  for (const s of job.active) {
    const done = job.prompt + job.seqs[s].tokens.length - 1;
    positions += Math.min(job.prompt + job.genCap, done + FIRST_GENERATED);
  }
  return positions * kvBytesPerPosition(c);
}

/**
 * Rebuild the caches of a preempted job: each live sample's prompt and generated tokens (all but
 * the last, which the next decode step reads) are prefilled again. Sampling then goes on from the
 * same random streams; only the float rounding of the recomputed keys and values may differ from
 * those the decode steps had written.
 */
export function resumeSample(ctx: SamplerContext, job: SampleJob): void {
  const c = ctx.config;
  const KD = c.numKvHeads * c.headDim;
  const max = job.prompt + job.genCap;
  for (const s of job.active) {
    const generated = job.seqs[s].tokens;
    const T = job.prompt + generated.length - 1;
    const tokens = [...job.promptTokens, ...generated.slice(0, -1)];
    const ws = ctx.workspaceFor(T);
    forwardSequence(c, ctx.views, ws, tokens, T, ctx.invFreq);
    const cache = allocSampleCache(c, Math.min(max, T + FIRST_GENERATED), max);
    for (let l = 0; l < c.numLayers; l++) {
      fillCacheLayer(c, cache, l, ws.layers[l].k.subarray(0, T * KD), ws.layers[l].v, T);
    }
    job.caches[s] = cache;
  }
}

/**
 * Log-probabilities of the prompt's own tokens (and the top-k at each position) from the prefill's
 * final hidden states: position i-1's logits score prompt[i]. One row of logits at a time.
 */
function scorePrompt(
  ctx: SamplerContext,
  job: SampleJob,
  ws: Workspace,
  prompt: readonly number[],
  topK: number,
): void {
  const C = ctx.config.hiddenSize;
  const V = ctx.config.vocabSize;
  const logits = new Float32Array(V);
  const lps: (number | null)[] = [null];
  const tops: [number, number][][] = [[]];
  for (let i = 1; i < prompt.length; i++) {
    gemmRows(
      false,
      true,
      1,
      V,
      C,
      ws.xf.subarray((i - 1) * C, i * C),
      ctx.views.lmHead,
      logits,
      false,
    );
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (logits[j] > max) max = logits[j];
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(logits[j] - max);
    lps.push(logits[prompt[i]] - max - Math.log(sum));
    if (topK > 0) tops.push(topLogprobs(logits, 0, V, topK));
  }
  job.promptLogprobs = lps;
  if (topK > 0) job.promptTopLogprobs = tops;
}

/** Draw sample s's next token from logits[off..off+V); true when the sample is finished. */
function draw(
  job: SampleJob,
  s: number,
  logits: Float32Array,
  off: number,
  probs: Float64Array,
): boolean {
  const choice = chooseToken(logits, off, probs.length, job.filter, job.rngs[s], probs);
  const seq = job.seqs[s];
  seq.tokens.push(choice.token);
  seq.logprobs.push(choice.logprob);
  if (job.keepTop > 0) seq.topLogprobs?.push(topLogprobs(logits, off, probs.length, job.keepTop));
  if (job.stopIds.has(choice.token) || endsWithAny(seq.tokens, job.stopSeqs)) {
    seq.stopReason = 'stop';
    return true;
  }
  return seq.tokens.length >= job.genCap;
}

/** Whether every sample of the job has finished. */
export function sampleDone(job: SampleJob): boolean {
  return job.active.length === 0;
}

/** The job's result (complete once `sampleDone`). */
export function sampleResult(job: SampleJob): SampleResult {
  return {
    sequences: job.seqs.map((s) => ({ ...s })),
    ...(job.promptLogprobs ? { promptLogprobs: job.promptLogprobs } : {}),
    ...(job.promptTopLogprobs ? { promptTopLogprobs: job.promptTopLogprobs } : {}),
  };
}

/**
 * One token for every live sample of every job, in one batched decode step. Jobs that are done
 * are skipped.
 */
export function advanceSamples(ctx: SamplerContext, jobs: readonly SampleJob[]): void {
  const rows: DecodeRow[] = [];
  const owners: { job: SampleJob; s: number }[] = [];
  for (const job of jobs) {
    for (const s of job.active) {
      const toks = job.seqs[s].tokens;
      rows.push({
        cache: job.caches[s],
        token: toks[toks.length - 1],
        pos: job.prompt + toks.length - 1,
      });
      owners.push({ job, s });
    }
  }
  if (rows.length === 0) return;
  decodeRows(ctx.config, ctx.views, ctx.scratch, rows, ctx.invFreq);
  const V = ctx.config.vocabSize;
  const probs = new Float64Array(V);
  const still = new Map<SampleJob, number[]>();
  owners.forEach(({ job, s }, r) => {
    const kept = still.get(job) ?? [];
    if (!draw(job, s, ctx.scratch.logits, r * V, probs)) kept.push(s);
    else job.caches[s] = emptyCache(); // a finished sample's memory goes back at once
    still.set(job, kept);
  });
  for (const [job, kept] of still) job.active = kept;
}

/**
 * Generate `req.numSamples` continuations of `req.prompt`, alone (the in-thread model's path;
 * the worker batches requests with `startSample` / `advanceSamples` and gets the same tokens).
 * @param workspaceFor returns a workspace with capacity ≥ T (the prefill runs in it)
 * @throws EngineError on an invalid request
 */
export function sampleSequences(
  c: Qwen3Config,
  p: ModelViews,
  workspaceFor: (T: number) => Workspace,
  invFreq: Float64Array,
  req: SampleRequest,
): SampleResult {
  const ctx: SamplerContext = {
    config: c,
    views: p,
    workspaceFor,
    invFreq,
    scratch: emptyDecodeScratch(),
  };
  const job = startSample(ctx, req);
  while (!sampleDone(job)) advanceSamples(ctx, [job]);
  return sampleResult(job);
}

function endsWithAny(tokens: readonly number[], seqs: readonly (readonly number[])[]): boolean {
  outer: for (const s of seqs) {
    if (s.length > tokens.length) continue;
    const off = tokens.length - s.length;
    for (let i = 0; i < s.length; i++) if (tokens[off + i] !== s[i]) continue outer;
    return true;
  }
  return false;
}
