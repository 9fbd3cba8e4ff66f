/**
 * Batched generation with a KV cache. The prompt is prefilled once (the training forward over
 * the prompt; its rotated keys and values seed every sample's cache), then all live samples
 * decode together one position per step, so the projections run as (n, C) matrix products.
 * Sample i draws from its own stream Rng(seed + i): same seed + weights + prompt → same tokens.
 * Finished samples leave the batch; their cache slots are simply no longer read.
 */
import { EngineError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { SampleRequest, SampleResult, StopReason } from '../engine/types.ts';
import type { Qwen3Config } from './config.ts';
import { forwardSequence } from './forward.ts';
import { attentionDecodeFast } from './kernels/attention-fast.ts';
import { embeddingForward } from './kernels/embedding.ts';
import { addInto } from './kernels/floats.ts';
import { gemm } from './kernels/gemm.ts';
import { linearForward } from './kernels/linear.ts';
import { rmsnormForward } from './kernels/rmsnorm.ts';
import { ropeForward } from './kernels/rope.ts';
import { swigluForward } from './kernels/swiglu.ts';
import type { ModelViews } from './params.ts';
import { chooseToken } from './sampling-filter.ts';
import type { TokenFilter } from './sampling-filter.ts';
import type { Workspace } from './workspace.ts';

/** Per-sample KV caches: k[l], v[l] are (S, maxLen, KD). */
interface KvCache {
  readonly k: Float32Array[];
  readonly v: Float32Array[];
  readonly maxLen: number;
}

/** Decode-step buffers for up to n rows. */
interface DecodeBuffers {
  readonly x: Float32Array; // (n, C) residual stream
  readonly ln: Float32Array; // (n, C)
  readonly rstd: Float32Array; // (n)
  readonly qRaw: Float32Array; // (n, QD)
  readonly kRaw: Float32Array; // (n, KD)
  readonly qn: Float32Array; // (n, QD)
  readonly kn: Float32Array; // (n, KD)
  readonly rstdQ: Float32Array; // (n·NH)
  readonly rstdK: Float32Array; // (n·NKV)
  readonly v: Float32Array; // (n, KD)
  readonly attOut: Float32Array; // (n, QD)
  readonly att: Float32Array; // (NH, 1, maxLen) scratch probabilities
  readonly tmp: Float32Array; // (n, C)
  readonly gate: Float32Array; // (n, F)
  readonly up: Float32Array; // (n, F)
  readonly h: Float32Array; // (n, F)
  readonly logits: Float32Array; // (n, V)
}

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
  if (params.seed !== undefined && !Number.isInteger(params.seed))
    fail(`seed = ${params.seed}, expected an integer`);
  for (const seq of params.stopSequences ?? []) {
    if (seq.length === 0) fail('stopSequences contains an empty sequence');
  }
}

/**
 * Generate `req.numSamples` continuations of `req.prompt`.
 * @param workspaceFor returns a workspace with capacity ≥ T (the prefill runs in it)
 */
export function sampleSequences(
  c: Qwen3Config,
  p: ModelViews,
  workspaceFor: (T: number) => Workspace,
  invFreq: Float64Array,
  req: SampleRequest,
): SampleResult {
  validateSampleRequest(c, req);
  const { prompt, numSamples: S, params } = req;
  const P = prompt.length;
  const genCap = Math.min(params.maxTokens, c.maxPositions - P);
  const seqs: { tokens: number[]; logprobs: number[]; stopReason: StopReason }[] = Array.from(
    { length: S },
    () => ({ tokens: [], logprobs: [], stopReason: 'length' }),
  );
  if (genCap === 0) return { sequences: seqs };

  const V = c.vocabSize;
  const C = c.hiddenSize;
  const KD = c.numKvHeads * c.headDim;
  const seed = params.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const rngs = seqs.map((_, i) => new Rng((seed + i) >>> 0));
  const filter: TokenFilter = {
    temperature: params.temperature,
    topK: params.topK,
    topP: params.topP,
  };
  const stopIds = new Set(params.stopTokenIds ?? []);
  const stopSeqs = params.stopSequences ?? [];

  // Prefill once; copy the prompt's rotated keys and values into every sample's cache.
  const ws = workspaceFor(P);
  forwardSequence(c, p, ws, prompt, P, invFreq);
  const maxLen = P + genCap;
  const cache: KvCache = { k: [], v: [], maxLen };
  for (let l = 0; l < c.numLayers; l++) {
    const kc = new Float32Array(S * maxLen * KD);
    const vc = new Float32Array(S * maxLen * KD);
    const kSrc = ws.layers[l].k.subarray(0, P * KD);
    const vSrc = ws.layers[l].v.subarray(0, P * KD);
    for (let s = 0; s < S; s++) {
      kc.set(kSrc, s * maxLen * KD);
      vc.set(vSrc, s * maxLen * KD);
    }
    cache.k.push(kc);
    cache.v.push(vc);
  }
  const buf = allocDecode(c, S, maxLen);
  // The first distribution is shared: logits of the last prompt position.
  gemm(false, true, 1, V, C, ws.xf.subarray((P - 1) * C, P * C), p.lmHead, buf.logits, false);
  const probs = new Float64Array(V);

  let active = seqs.map((_, i) => i);
  const nextTokens = new Int32Array(S);
  for (let step = 0; step < genCap; step++) {
    const still: number[] = [];
    for (let r = 0; r < active.length; r++) {
      const s = active[r];
      const row = step === 0 ? 0 : r;
      const choice = chooseToken(buf.logits, row * V, V, filter, rngs[s], probs);
      const seq = seqs[s];
      seq.tokens.push(choice.token);
      seq.logprobs.push(choice.logprob);
      if (stopIds.has(choice.token) || endsWithAny(seq.tokens, stopSeqs)) {
        seq.stopReason = 'stop';
      } else {
        still.push(s);
      }
    }
    active = still;
    if (active.length === 0 || step + 1 === genCap) break;
    for (let r = 0; r < active.length; r++) {
      const toks = seqs[active[r]].tokens;
      nextTokens[r] = toks[toks.length - 1];
    }
    decodeStep(c, p, cache, buf, active, nextTokens, P + step, invFreq);
  }
  return { sequences: seqs };
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

function allocDecode(c: Qwen3Config, n: number, maxLen: number): DecodeBuffers {
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KD = c.numKvHeads * c.headDim;
  const F = c.intermediateSize;
  const f = (k: number): Float32Array => new Float32Array(k);
  return {
    x: f(n * C),
    ln: f(n * C),
    rstd: f(n),
    qRaw: f(n * QD),
    kRaw: f(n * KD),
    qn: f(n * QD),
    kn: f(n * KD),
    rstdQ: f(n * c.numHeads),
    rstdK: f(n * c.numKvHeads),
    v: f(n * KD),
    attOut: f(n * QD),
    att: f(c.numHeads * maxLen),
    tmp: f(n * C),
    gate: f(n * F),
    up: f(n * F),
    h: f(n * F),
    logits: f(n * c.vocabSize),
  };
}

/**
 * One decode step for the live samples `active` (row r ↔ sample active[r]) whose last token is
 * tokens[r], at position `pos`: appends k/v at `pos` to each sample's cache and leaves the next
 * logits in buf.logits (n, V).
 */
function decodeStep(
  c: Qwen3Config,
  p: ModelViews,
  cache: KvCache,
  b: DecodeBuffers,
  active: readonly number[],
  tokens: Int32Array,
  pos: number,
  invFreq: Float64Array,
): void {
  const { hiddenSize: C, numHeads: NH, numKvHeads: NKV, headDim: HD, intermediateSize: F } = c;
  const QD = NH * HD;
  const KD = NKV * HD;
  const n = active.length;
  const eps = c.rmsNormEps;
  const slot = cache.maxLen * KD;
  embeddingForward(b.x, tokens, p.embed, n, C);
  for (let l = 0; l < c.numLayers; l++) {
    const w = p.layers[l];
    rmsnormForward(b.ln, b.rstd, b.x, w.inputNorm, n, C, eps);
    linearForward(b.qRaw, b.ln, w.wq, n, C, QD);
    linearForward(b.kRaw, b.ln, w.wk, n, C, KD);
    linearForward(b.v, b.ln, w.wv, n, C, KD);
    rmsnormForward(b.qn, b.rstdQ, b.qRaw, w.qNorm, n * NH, HD, eps);
    rmsnormForward(b.kn, b.rstdK, b.kRaw, w.kNorm, n * NKV, HD, eps);
    // Every row sits at the same position: stride 0.
    ropeForward(b.qn, b.qn, n, NH, HD, pos, 0, invFreq);
    ropeForward(b.kn, b.kn, n, NKV, HD, pos, 0, invFreq);
    const kc = cache.k[l];
    const vc = cache.v[l];
    for (let r = 0; r < n; r++) {
      const base = active[r] * slot;
      kc.set(b.kn.subarray(r * KD, (r + 1) * KD), base + pos * KD);
      vc.set(b.v.subarray(r * KD, (r + 1) * KD), base + pos * KD);
      attentionDecodeFast(
        b.attOut.subarray(r * QD, (r + 1) * QD),
        b.qn.subarray(r * QD, (r + 1) * QD),
        kc.subarray(base, base + slot),
        vc.subarray(base, base + slot),
        pos + 1,
        NH,
        NKV,
        HD,
      );
    }
    linearForward(b.tmp, b.attOut, w.wo, n, QD, C);
    addInto(b.x, b.tmp, n * C);
    rmsnormForward(b.ln, b.rstd, b.x, w.postNorm, n, C, eps);
    linearForward(b.gate, b.ln, w.wGate, n, C, F);
    linearForward(b.up, b.ln, w.wUp, n, C, F);
    swigluForward(b.h, b.gate, b.up, n * F);
    linearForward(b.tmp, b.h, w.wDown, n, F, C);
    addInto(b.x, b.tmp, n * C);
  }
  rmsnormForward(b.ln, b.rstd, b.x, p.finalNorm, n, C, eps);
  gemm(false, true, n, c.vocabSize, C, b.ln, p.lmHead, b.logits, false);
}
