/**
 * Qwen3Model: the synchronous, in-thread embedded engine. It owns one contiguous parameter
 * buffer and, lazily, the gradient and Adam-moment buffers in the same layout, plus the
 * activation workspace. forwardBackward accumulates gradients (hosted Tinker semantics: loss
 * summed over tokens and datums) until optimStep applies AdamW and zeroes them. Datums of any
 * length run one at a time, so there is no padding, except that datums sharing a long prefix (a
 * responder group's prompt) run as one packed sequence computing the prefix once, forward and
 * backward (shared-prefix.ts; `prefixSharing` tunes or disables it). The worker (worker.ts)
 * wraps this class; benchmarks and tests may use it directly.
 *
 * With LoRA enabled (`enableLora`) the base weights are frozen: no base gradient or Adam moment
 * is ever allocated, forwardBackward accumulates into the adapters' own buffer and optimStep
 * runs AdamW on the adapters only. Sampling reads a copy of the adapted matrices with the
 * adapters merged in, rebuilt lazily after each change of the adapters.
 */
import { EngineError } from '../core/errors.ts';
import type {
  AdamParams,
  Datum,
  ForwardBackwardResult,
  LossConfig,
  LossName,
  SampleRequest,
  SampleResult,
} from '../core/policy-types.ts';
import type { Qwen3Config } from './config.ts';
import { backwardSequence, forwardSequence, lmHeadPass } from './forward.ts';
import type { RowLoss } from './forward.ts';
import { segmentedAttentionFast } from './kernels/flash-attention.ts';
import { gemm } from './kernels/gemm.ts';
import { modelInvFreq } from './rope-freq.ts';
import { resolveLoss, tokenLoss, validateDatum } from './losses.ts';
import { adamwStep } from './optim.ts';
import type { AdamState, AdamStepMetrics } from './optim.ts';
import { initLora, loraRun, loraTable, mergedViews, pointLora } from './lora.ts';
import type { LoraConfig, LoraLayerViews, LoraRun, LoraTable } from './lora.ts';
import { initParams, paramTable, pointParams } from './params.ts';
import type { ModelViews, ParamTable } from './params.ts';
import { sampleSequences } from './sampler.ts';
import { planSharing } from './shared-prefix.ts';
import type { PackedLayout, SharingPlan } from './shared-prefix.ts';
import { allocWorkspace, backwardScratch } from './workspace.ts';
import type { Workspace } from './workspace.ts';

/** The embedded Qwen3 decoder with its training state. */
export class Qwen3Model {
  readonly config: Qwen3Config;
  readonly table: ParamTable;
  /** All parameters, laid out by `table`. */
  readonly params: Float32Array;
  readonly views: ModelViews;
  private gradBuf: Float32Array | null = null;
  private gradViews: ModelViews | null = null;
  private adam: AdamState | null = null;
  private ws: Workspace | null = null;
  private inferWs: Workspace | null = null;
  private readonly invFreq: Float64Array;
  private loraState: LoraState | null = null;
  /**
   * Shared-prefix packing of forward/forwardBackward: datums sharing at least `minShared`
   * leading rows (input and target) run as one sequence (off: each datum alone). A pack is at
   * most `packFactor` times the call's longest datum, which bounds the workspace memory.
   */
  prefixSharing: PrefixSharing = { enabled: true, minShared: 64, packFactor: 2 };

  /**
   * @param config validated configuration
   * @param params an existing buffer laid out by `paramTable(config)` (default: zeros)
   */
  constructor(config: Qwen3Config, params?: Float32Array) {
    this.config = config;
    this.table = paramTable(config);
    if (params && params.length !== this.table.totalSize) {
      throw new EngineError(
        `parameter buffer has ${params.length} floats, the config needs ${this.table.totalSize}`,
      );
    }
    this.params = params ?? new Float32Array(this.table.totalSize);
    this.views = pointParams(config, this.table, this.params);
    this.invFreq = modelInvFreq(config);
  }

  /** A model with fresh random weights (deterministic in `seed`). */
  static random(config: Qwen3Config, seed: number): Qwen3Model {
    const m = new Qwen3Model(config);
    initParams(config, m.table, m.params, seed);
    return m;
  }

  /**
   * Freeze the base and train fresh adapters (peft's initialisation, deterministic in
   * `config.seed`); replaces any adapters already there, and any base gradient.
   */
  enableLora(config: LoraConfig): void {
    const table = loraTable(this.config, config);
    const params = new Float32Array(table.totalSize);
    initLora(table, params);
    const grads = new Float32Array(table.totalSize);
    this.loraState = {
      table,
      params,
      grads,
      adam: {
        m: new Float32Array(table.totalSize),
        v: new Float32Array(table.totalSize),
        step: 0,
      },
      paramViews: pointLora(table, this.config.numLayers, params),
      gradViews: pointLora(table, this.config.numLayers, grads),
      run: null,
      merged: null,
      mergedBuffer: null,
    };
    this.gradBuf = null;
    this.gradViews = null;
    this.adam = null;
  }

  /** The adapters (null: full fine-tuning). Call `adaptersChanged` after writing to them. */
  get lora(): LoraAdapters | null {
    const s = this.loraState;
    return s ? { table: s.table, params: s.params, grads: s.grads, adam: s.adam } : null;
  }

  /** Replace the adapters' Adam state (checkpoint load). */
  setLoraAdamState(state: AdamState): void {
    const s = this.loraState;
    if (!s || state.m.length !== s.table.totalSize || state.v.length !== s.table.totalSize) {
      throw new EngineError('optimizer moments do not match the adapter layout');
    }
    s.adam = state;
  }

  /** Drop the merged sampling weights after the adapters were written from outside. */
  adaptersChanged(): void {
    if (this.loraState) this.loraState.merged = null;
  }

  /** Applied optimizer steps (of the adapters under LoRA). */
  get optimizerStep(): number {
    return this.loraState ? this.loraState.adam.step : (this.adam?.step ?? 0);
  }

  /** The weights sampling reads: the base, or the base with the adapters merged in. */
  get samplingViews(): ModelViews {
    const s = this.loraState;
    if (!s) return this.views;
    if (!s.merged) {
      // Reuse the copy's buffer: the worker never changes adapters while a sample is in flight.
      const m = mergedViews(this.views, s.table, s.params, s.mergedBuffer ?? undefined);
      s.merged = m.views;
      s.mergedBuffer = m.buffer;
    }
    return s.merged;
  }

  private loraRunFor(cap: number): LoraRun | null {
    const s = this.loraState;
    if (!s) return null;
    if (!s.run || s.run.cap < cap) s.run = loraRun(s.table, s.paramViews, s.gradViews, cap);
    return s.run;
  }

  /** The gradient buffer (allocated on first use), same layout as `params`. */
  get grads(): Float32Array {
    if (!this.gradBuf) {
      this.gradBuf = new Float32Array(this.table.totalSize);
      this.gradViews = pointParams(this.config, this.table, this.gradBuf);
    }
    return this.gradBuf;
  }

  /** Adam state (moments allocated on first use). */
  get adamState(): AdamState {
    if (!this.adam) {
      this.adam = {
        m: new Float32Array(this.table.totalSize),
        v: new Float32Array(this.table.totalSize),
        step: 0,
      };
    }
    return this.adam;
  }

  /** Replace the Adam state (checkpoint load). */
  setAdamState(state: AdamState): void {
    if (state.m.length !== this.table.totalSize || state.v.length !== this.table.totalSize) {
      throw new EngineError('optimizer moments do not match the parameter layout');
    }
    this.adam = state;
  }

  private checkLength(T: number): void {
    if (T > this.config.maxPositions) {
      throw new EngineError(
        `sequence of ${T} tokens exceeds max_position_embeddings ${this.config.maxPositions}`,
      );
    }
  }

  /**
   * A workspace for T rows: the training one, or the layer-sharing one for forward only. A
   * packed sequence (`packed`) may be longer than max_position_embeddings: its positions are not.
   */
  private workspace(T: number, inference = false, packed = false): Workspace {
    if (!packed) this.checkLength(T);
    const ws = inference ? this.inferWs : this.ws;
    if (ws && ws.cap >= T) return ws;
    // Grow geometrically so a run of slowly growing lengths does not reallocate every call; the
    // training workspace (about 1 MB per row for a 135M model) grows by less.
    const grown = ws ? Math.ceil(ws.cap * (inference ? 2 : 1.25)) : 16;
    const cap = Math.min(Math.max(this.config.maxPositions, T), Math.max(T, grown));
    // let the old buffers go before allocating the new ones
    if (inference) this.inferWs = null;
    else this.ws = null;
    const fresh = allocWorkspace(this.config, cap, inference);
    if (inference) this.inferWs = fresh;
    else this.ws = fresh;
    return fresh;
  }

  /** Accumulate gradients of the loss over `data`; returns per-token logprobs and the loss sum. */
  forwardBackward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): ForwardBackwardResult {
    return this.run(data, loss, config, true);
  }

  /** Forward only: per-token logprobs and the loss, no gradient. */
  forward(data: readonly Datum[], loss: LossName, config?: LossConfig): ForwardBackwardResult {
    return this.run(data, loss, config, false);
  }

  private run(
    data: readonly Datum[],
    lossName: LossName,
    lossConfig: LossConfig | undefined,
    train: boolean,
  ): ForwardBackwardResult {
    const loss = resolveLoss(lossName, lossConfig);
    data.forEach((d, i) => validateDatum(d, i, lossName, this.config.vocabSize));
    for (const d of data) this.checkLength(d.modelInput.length);
    if (train && !this.loraState) void this.grads;
    const logprobs_D = data.map((d) => new Array<number>(d.modelInput.length));
    let total = 0;
    let tokens = 0;
    let clipped = 0;
    // Loss of row t of datum i; returns d(loss)/d(logprob).
    const datumRow = (i: number, t: number, logprob: number): number => {
      logprobs_D[i][t] = logprob;
      const tl = tokenLoss(loss, data[i], t, logprob);
      total += tl.loss;
      if (tl.loss !== 0 || tl.dlogprob !== 0) tokens++;
      if (lossName === 'ppo' && tl.dlogprob === 0 && tl.loss !== 0) clipped++;
      return tl.dlogprob;
    };
    const plan = this.planFor(data);
    for (const i of plan.singles) {
      const d = data[i];
      const T = d.modelInput.length;
      const rowLoss: RowLoss = (t, lp) => datumRow(i, t, lp);
      this.runSequence(d.modelInput, d.targetTokens, T, null, train, loss.temperature, rowLoss);
    }
    for (const pack of plan.packs) {
      const P = pack.prefix;
      // A shared row's logits are every member's: their losses add, and so do their gradients.
      const rowLoss: RowLoss = (r, lp) => {
        const m = pack.rowMember[r];
        if (m >= 0) return datumRow(pack.members[m], P + r - pack.starts[m], lp);
        let d = 0;
        for (const i of pack.members) d += datumRow(i, r, lp);
        return d;
      };
      const { tokens: tk, targets, length, layout } = pack;
      this.runSequence(tk, targets, length, layout, train, loss.temperature, rowLoss);
    }
    const metrics: Record<string, number> = { 'loss:sum': total, 'tokens:sum': tokens };
    if (lossName === 'ppo') metrics['clipped_tokens:sum'] = clipped;
    return { logprobs: logprobs_D, loss: total, metrics };
  }

  /** Which datums of a call run packed (see shared-prefix.ts). */
  private planFor(data: readonly Datum[]): SharingPlan {
    const all = { packs: [], singles: data.map((_, i) => i) };
    const opts = this.prefixSharing;
    // A stale native build without segmented attention would run packs through the slow loops.
    if (!opts.enabled || data.length < 2 || !segmentedAttentionFast()) return all;
    const longest = data.reduce((m, d) => Math.max(m, d.modelInput.length), 0);
    return planSharing(data, {
      minShared: Math.max(1, opts.minShared),
      maxTokens: Math.floor(opts.packFactor * longest),
    });
  }

  /** Forward (and backward when training) of one sequence, plain or packed. */
  private runSequence(
    tokens: ArrayLike<number>,
    targets: ArrayLike<number>,
    T: number,
    layout: PackedLayout | null,
    train: boolean,
    temperature: number,
    rowLoss: RowLoss,
  ): void {
    const ws = this.workspace(T, !train, layout !== null);
    const run = this.loraRunFor(ws.cap);
    const baseGrads = train && !this.loraState ? this.gradViews : null;
    forwardSequence(this.config, this.views, ws, tokens, T, this.invFreq, run, layout);
    const scratch = train ? backwardScratch(this.config, ws) : null;
    let any = false;
    lmHeadPass(
      this.config,
      this.views,
      baseGrads,
      ws,
      scratch,
      targets,
      T,
      temperature,
      (t, lp) => {
        const d = rowLoss(t, lp);
        if (d !== 0) any = true;
        return d;
      },
    );
    if (train && scratch && any) {
      const c = this.config;
      backwardSequence(c, this.views, baseGrads, ws, scratch, tokens, T, this.invFreq, run, layout);
    }
  }

  /** Apply AdamW to the accumulated gradients, then zero them. */
  optimStep(adam: AdamParams): AdamStepMetrics {
    const s = this.loraState;
    if (!s) return adamwStep(this.params, this.grads, this.adamState, adam);
    s.merged = null;
    return adamwStep(s.params, s.grads, s.adam, adam);
  }

  /** Generate continuations with the KV cache (see sampler.ts). */
  sample(req: SampleRequest): SampleResult {
    return sampleSequences(
      this.config,
      this.samplingViews,
      (T) => this.workspace(T, true),
      this.invFreq,
      req,
    );
  }

  /** Full logits (T, V) of a token sequence (tests and tools; allocates T·V floats). */
  logits(tokens: readonly number[]): Float32Array {
    const T = tokens.length;
    return this.logitRows(
      tokens,
      Array.from({ length: T }, (_, t) => t),
    );
  }

  /** Logits (rows.length, V) of chosen positions of a token sequence (long prompts in tests). */
  logitRows(tokens: readonly number[], rows: readonly number[]): Float32Array {
    const T = tokens.length;
    const V = this.config.vocabSize;
    const C = this.config.hiddenSize;
    const out = new Float32Array(rows.length * V);
    const ws = this.workspace(T, true);
    const run = this.loraRunFor(ws.cap);
    forwardSequence(this.config, this.views, ws, tokens, T, this.invFreq, run);
    const xf = new Float32Array(rows.length * C);
    rows.forEach((t, i) => xf.set(ws.xf.subarray(t * C, (t + 1) * C), i * C));
    gemm(false, true, rows.length, V, C, xf, this.views.lmHead, out, false);
    return out;
  }
}

/** Settings of shared-prefix packing (`Qwen3Model.prefixSharing`). */
export interface PrefixSharing {
  readonly enabled: boolean;
  /** Fewest shared leading rows worth packing. */
  readonly minShared: number;
  /** Largest pack, as a multiple of the call's longest datum. */
  readonly packFactor: number;
}

/** The adapters of a LoRA model, as checkpoints and exports read and write them. */
export interface LoraAdapters {
  readonly table: LoraTable;
  /** Laid out by `table`; written in place by checkpoint loads (then call adaptersChanged). */
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly adam: AdamState;
}

interface LoraState {
  readonly table: LoraTable;
  readonly params: Float32Array;
  readonly grads: Float32Array;
  adam: AdamState;
  readonly paramViews: LoraLayerViews[];
  readonly gradViews: LoraLayerViews[];
  run: LoraRun | null;
  merged: ModelViews | null;
  mergedBuffer: Float32Array | null;
}
