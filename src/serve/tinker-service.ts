/**
 * The Tinker protocol subset `spell serve` implements, with hosted semantics, over any
 * PolicyEngine provider: sessions + heartbeats, create/unload model, get_info, capabilities,
 * forward / forward_backward / optim_step / save_weights / save_weights_for_sampler / load_weights,
 * create_sampling_session, asample, samplers/{id}, retrieve_future (long poll, then `try_again`),
 * client/config and telemetry stubs.
 *
 * Each training model owns one engine; its requests run in seq_id order (model-queue.ts) and the
 * calls into one engine are ordered (EngineSlot): samples run together (batched by the engine), a
 * training step alone, so sampling never races a training step. A sample stops when its future's
 * owner goes away: its Tinker session finishes, its model is unloaded, or the server closes.
 * Ephemeral sampler saves bind a sampling session to (model, sampler version): the engine keeps only
 * its latest sampler weights, so an outdated session is refused rather than silently served newer
 * weights. Named sampler saves and `model_path` sessions get their own engine loaded from disk.
 *
 * Prompt log-probs (and top-k of prompt and sampled tokens, k ≤ 20) come from the engine's sampler;
 * forward_backward also takes the SDK >= 0.25 protobuf body and results are encoded in protobuf when
 * a poll asks for them (server.ts, engine/tinker/proto.ts).
 *
 * Not implemented: string stops, target_prompt_logprobs, prompt_alt_tokens, checkpoint listing,
 * archive download, publishing/TTL, dro/cispo losses. A session without heartbeats is not ended
 * (the hosted service ends it); its models are unloaded by the idle sweep (unloadIdle).
 */
import { randomBytes } from 'node:crypto';
import { totalmem } from 'node:os';
import type { z } from 'zod';
import type { EngineInfo, PolicyEngine } from '../engine/types.ts';
import * as w from '../engine/tinker/wire.ts';
import type { KvLedger, KvLedgerSnapshot, LoraOptions } from '../model/index.ts';
import { FutureStore } from './future-store.ts';
import { HttpError, parseBody } from './http-util.ts';
import { KvBudget } from './kv-budget.ts';
import { ModelQueue } from './model-queue.ts';
import { scrubPaths } from './request-guard.ts';

/** Where engines come from: one fresh engine on the base weights per call. */
export interface EngineProvider {
  /** The base model name clients pass as `base_model`. */
  readonly modelName: string;
  /** KV-cache bytes one sampled token holds (layers × 2 × kv heads × head dim × 4), when known. */
  readonly kvBytesPerToken?: number;
  /**
   * A fresh engine on the base model; with `lora`, training LoRA adapters on a frozen base. Its
   * sampling accounts KV memory in `ledger` (and stays within its budget) when it can.
   */
  create(opts?: { readonly lora?: LoraOptions; readonly ledger?: KvLedger }): Promise<PolicyEngine>;
}

export interface TinkerServiceOptions {
  readonly provider: EngineProvider;
  /** How long retrieve_future holds a pending future before answering try_again (ms, default 25 000). */
  readonly longPollMs?: number;
  /** max_tokens when a sample request has none (default 256). */
  readonly defaultMaxTokens?: number;
  /**
   * Most engines (worker threads with a model each) alive at once, the base engine included
   * (default 8). Idle path-sampler engines and idle models of silent sessions are unloaded to make
   * room; past that, create_model answers 429.
   */
  readonly maxEngines?: number;
  /** An engine unused this long (and, for a training model, its session silent) may be unloaded (default 10 min). */
  readonly idleUnloadMs?: number;
  /** KV-cache bytes the samples of all engines may hold together (default: a quarter of RAM). */
  readonly kvBudgetBytes?: number;
  /** Admitted requests' worst cases may add up to this many times the KV budget (default 4). */
  readonly kvOvercommit?: number;
  /** Overrides the provider's kvBytesPerToken (tests). */
  readonly kvBytesPerToken?: number;
}

/**
 * Orders the calls into one engine: an exclusive call (training, save, load, close) runs alone,
 * after every call queued before it; shared calls (sampling) queued between two exclusive ones run
 * together — the engine batches them — so a training step never races a sample, and a sample
 * sees the weights of the calls queued before it.
 */
export class EngineSlot {
  /** Settles when the last exclusive call (and everything before it) has. */
  private barrier: Promise<unknown> = Promise.resolve();
  /** Shared calls queued since that exclusive call. */
  private readonly shared = new Set<Promise<unknown>>();
  /** Calls queued or running. */
  private active = 0;
  /** When the last call finished (or the slot was made). */
  lastUsed = Date.now();
  /** Set when the slot must not take new work (its checkpoint was re-saved, or it was unloaded). */
  private retiredBecause: string | undefined;
  constructor(readonly engine: Promise<PolicyEngine>) {
    engine.catch(() => undefined); // surfaced on first use
  }
  get busy(): boolean {
    return this.active > 0;
  }
  /**
   * Queue `fn` behind earlier calls (with `shared`, only behind earlier exclusive ones). When
   * `signal` aborts before `fn`'s turn, `fn` never runs (an abandoned request costs nothing).
   */
  run<T>(
    fn: (e: PolicyEngine) => Promise<T>,
    signal?: AbortSignal,
    mode: 'exclusive' | 'shared' = 'exclusive',
  ): Promise<T> {
    if (this.retiredBecause !== undefined) {
      return Promise.reject(new HttpError(400, this.retiredBecause));
    }
    this.active++;
    const after = mode === 'shared' ? this.barrier : Promise.all([this.barrier, ...this.shared]);
    const p = after
      .then(async () => {
        signal?.throwIfAborted();
        return fn(await this.engine);
      })
      .finally(() => {
        this.active--;
        this.lastUsed = Date.now();
      });
    const settled = p.catch(() => undefined);
    if (mode === 'shared') {
      this.shared.add(settled);
      void settled.then(() => this.shared.delete(settled));
    } else {
      this.barrier = settled;
      this.shared.clear();
    }
    return p;
  }
  /** Refuse new work with `reason`, then close the engine once queued work is done. */
  retire(reason: string): Promise<void> {
    const closing = this.run((e) => e.close()).catch(() => undefined);
    this.retiredBecause = reason;
    return closing;
  }
  /** Close the engine now, abandoning whatever runs (server shutdown). */
  async kill(): Promise<void> {
    this.retiredBecause ??= 'the server is shutting down';
    const engine = await this.engine.catch(() => undefined);
    await engine?.close();
  }
}

/** Counters per training model, for health pages and the fault suite's no-double-apply checks. */
export interface ModelCounters {
  forward: number;
  forwardBackward: number;
  optimStep: number;
  saves: number;
  loads: number;
}

interface TrainingModel {
  readonly id: string;
  readonly sessionId: string;
  readonly loraRank: number;
  /** The adapters the model trains (undefined: full fine-tuning). */
  readonly lora: LoraOptions | undefined;
  readonly slot: EngineSlot;
  readonly queue: ModelQueue;
  readonly counters: ModelCounters;
  samplerVersion: number;
  unloaded: boolean;
  /** Aborted when the model is unloaded: its running samples stop. */
  readonly stop: AbortController;
}

interface SamplingSession {
  readonly id: string;
  /** The Tinker session it belongs to (its samples stop when that session finishes). */
  readonly sessionId: string;
  readonly slot: EngineSlot;
  readonly model?: TrainingModel;
  readonly version?: number;
  readonly modelPath?: string;
}

interface Checkpoint {
  readonly ref: string;
  readonly modelId: string;
  /** The LoRA shape of the saving model (create-via-load and weights_info read it). */
  readonly lora: LoraOptions | undefined;
  /** Bumped on every save to the same path, so engines loaded from an older save are not reused. */
  readonly generation: number;
}

interface TinkerSession {
  lastBeat: number;
  finished?: string;
  /** Aborted when the session finishes: samples of its sampling sessions stop. */
  readonly stop: AbortController;
}

interface Dedup {
  readonly bodyKey: string;
  readonly id: string;
}

type Handler = (body: unknown) => Promise<unknown>;

export class TinkerService {
  readonly futures = new FutureStore();
  private readonly prefix = randomBytes(3).toString('hex');
  private counter = 0;
  /** Sessions by id; `finished` is set once the client finished it (first reason wins). */
  private readonly sessions = new Map<string, TinkerSession>();
  /** Aborted when the server closes: every running sample stops. */
  private readonly stopping = new AbortController();
  private readonly models = new Map<string, TrainingModel>();
  private readonly samplers = new Map<string, SamplingSession>();
  private readonly checkpoints = new Map<string, Checkpoint>();
  private readonly dedup = new Map<string, Dedup>();
  /** Engines loaded from a checkpoint path, by `<ref>#<generation>`. */
  private readonly pathSlots = new Map<string, EngineSlot>();
  private generation = 0;
  readonly base: EngineSlot;
  private baseInfo: Promise<EngineInfo>;
  /** Bounds the KV cache memory of sampling requests (admission control). */
  readonly kv: KvBudget;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly opts: TinkerServiceOptions) {
    this.kv = new KvBudget(
      opts.kvBudgetBytes ?? Math.floor(totalmem() / 4),
      opts.kvBytesPerToken ?? opts.provider.kvBytesPerToken,
      opts.kvOvercommit,
    );
    this.base = new EngineSlot(opts.provider.create({ ledger: this.kv.ledger }));
    this.baseInfo = this.base.run((e) => e.info());
    const idle = this.opts.idleUnloadMs ?? 600_000;
    // A quarter of the idle time, so an engine goes at most 25% late; never more often than once
    // a second (--idle-unload-minutes 0 would otherwise sweep every millisecond).
    this.sweeper = setInterval(
      () => void this.unloadIdle(),
      Math.min(60_000, Math.max(1_000, idle / 4)),
    );
    this.sweeper.unref();
  }

  /** How many engines are alive (base, training models, path samplers). */
  engineCount(): number {
    let n = 1 + this.pathSlots.size;
    for (const m of this.models.values()) if (!m.unloaded) n++;
    return n;
  }

  /** Resolves once the base engine is up (so a broken model folder fails at startup). */
  async ready(): Promise<EngineInfo> {
    return this.baseInfo;
  }

  /**
   * Sampling figures for `GET /stats`: the KV budget, what the caches hold, the worst cases
   * admitted, tokens sampled, requests cancelled and preempted (all engines together).
   */
  stats(): Record<string, number> {
    const l: KvLedgerSnapshot = this.kv.ledger.snapshot();
    return {
      kv_budget_bytes: l.budgetBytes,
      kv_in_use_bytes: l.inUseBytes,
      kv_peak_bytes: l.peakBytes,
      kv_admitted_worst_case_bytes: this.kv.reservedBytes,
      kv_overcommit: this.kv.overcommit,
      tokens_generated: l.tokensGenerated,
      requests_cancelled: l.requestsCancelled,
      preemptions: l.preemptions,
      engines: this.engineCount(),
    };
  }

  /** Aborts when the server closes (routes combine it with their client's hang-up). */
  get closing(): AbortSignal {
    return this.stopping.signal;
  }

  /** Counters of a training model (undefined for unknown ids). */
  counters(modelId: string): Readonly<ModelCounters> | undefined {
    return this.models.get(modelId)?.counters;
  }

  /** POST routes under /api/v1, by path. */
  routes(): ReadonlyMap<string, Handler> {
    return new Map<string, Handler>([
      ['/api/v1/create_session', (b) => this.createSession(b)],
      ['/api/v1/session_heartbeat', (b) => this.heartbeat(b)],
      ['/api/v1/create_model', (b) => this.createModel(b)],
      ['/api/v1/get_info', (b) => this.getInfo(b)],
      ['/api/v1/unload_model', (b) => this.unloadModel(b)],
      ['/api/v1/forward', (b) => this.forward(b, false)],
      ['/api/v1/forward_backward', (b) => this.forward(b, true)],
      ['/api/v1/optim_step', (b) => this.optimStep(b)],
      ['/api/v1/save_weights', (b) => this.saveWeights(b)],
      ['/api/v1/save_weights_for_sampler', (b) => this.saveForSampler(b)],
      ['/api/v1/load_weights', (b) => this.loadWeights(b)],
      ['/api/v1/create_sampling_session', (b) => this.createSamplingSession(b)],
      ['/api/v1/asample', (b) => this.sample(b)],
      ['/api/v1/retrieve_future', (b) => this.retrieveFuture(b)],
      ['/api/v1/weights_info', (b) => this.weightsInfo(b)],
      ['/api/v1/client/config', () => Promise.resolve({ pjwt_auth_enabled: false })],
      ['/api/v1/telemetry', () => Promise.resolve({ status: 'accepted' })],
    ]);
  }

  /** `GET /api/v1/get_server_capabilities`. */
  async capabilities(): Promise<unknown> {
    const info = await this.baseInfo;
    return {
      supported_models: [
        {
          model_name: this.opts.provider.modelName,
          max_context_length: info.maxContext,
          ...(info.vocabSize !== undefined ? { vocab_size: info.vocabSize } : {}),
        },
      ],
      // Lets a spell client know it may send the learner temperature (spell-algorithm.md §7.2).
      loss_fn_config_keys: ['clip_low_threshold', 'clip_high_threshold', w.LOSS_TEMPERATURE_KEY],
    };
  }

  /** `GET /api/v1/samplers/{id}`. */
  samplerInfo(id: string): unknown {
    const s = this.samplers.get(id);
    if (!s) throw new HttpError(404, `unknown sampler '${id}'`);
    return {
      sampler_id: id,
      base_model: this.opts.provider.modelName,
      ...(s.modelPath ? { model_path: s.modelPath } : {}),
    };
  }

  /** Stop every engine now; running computations are abandoned, not finished. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.stopping.abort(new HttpError(503, 'the server is shutting down'));
    const slots = [
      this.base,
      ...[...this.models.values()].map((m) => m.slot),
      ...this.pathSlots.values(),
    ];
    await Promise.allSettled(slots.map((s) => s.kill()));
  }

  /**
   * Unload engines idle for longer than idleUnloadMs: path-sampler engines (reloadable from disk),
   * and training models whose session has also stopped sending heartbeats.
   * @returns how many engines were unloaded
   */
  async unloadIdle(now = Date.now()): Promise<number> {
    const idle = this.opts.idleUnloadMs ?? 600_000;
    const closing: Promise<void>[] = [];
    for (const [key, slot] of this.pathSlots) {
      if (!slot.busy && now - slot.lastUsed >= idle) {
        this.pathSlots.delete(key);
        closing.push(
          slot.retire('its engine was unloaded after being idle; create a new sampling session'),
        );
      }
    }
    for (const m of this.models.values()) {
      const beat = this.sessions.get(m.sessionId)?.lastBeat ?? 0;
      if (!m.unloaded && !m.slot.busy && now - m.slot.lastUsed >= idle && now - beat >= idle) {
        closing.push(this.unload(m, `model ${m.id} was unloaded after being idle`));
      }
    }
    await Promise.all(closing);
    return closing.length;
  }

  /** Make room for one more engine, or answer 429 naming the limit. */
  private async reserveEngine(): Promise<void> {
    const max = this.opts.maxEngines ?? 8;
    if (this.engineCount() < max) return;
    // Path-sampler engines can be reloaded from disk: the least recently used idle one goes first.
    const idlePaths = [...this.pathSlots.entries()]
      .filter(([, s]) => !s.busy)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    const first = idlePaths[0];
    if (first) {
      this.pathSlots.delete(first[0]);
      await first[1].retire(
        'its engine was unloaded to make room for another; create a new sampling session',
      );
      return;
    }
    if ((await this.unloadIdle()) > 0 && this.engineCount() < max) return;
    throw new HttpError(
      429,
      `this server already holds ${this.engineCount()} engines (limit ${max}, --max-engines); unload_model one you no longer need and retry`,
    );
  }

  // ------------------------------------------------------------------------------------------

  private newId(kind: string): string {
    return `${kind}-${this.prefix}-${++this.counter}`;
  }

  private async createSession(body: unknown): Promise<unknown> {
    parseBody(w.createSessionSchema, body, 'create_session');
    const id = this.newId('session');
    this.sessions.set(id, { lastBeat: Date.now(), stop: new AbortController() });
    return Promise.resolve({ session_id: id, type: 'create_session' });
  }

  private heartbeat(body: unknown): Promise<unknown> {
    const b = parseBody(w.heartbeatSchema, body, 'session_heartbeat');
    this.session(b.session_id).lastBeat = Date.now();
    return Promise.resolve({ type: 'session_heartbeat' });
  }

  /**
   * `POST /api/v1/sessions/{id}/finish`: the client is done with the session (SDK >= 0.3x sends it
   * from `ServiceClient.close` and on leaving `with ServiceClient(...)`). Its training models are
   * unloaded so their engines count no more against --max-engines; later requests in the session,
   * heartbeats included, get 410, which stops the SDK's heartbeat loop. Finishing again is a no-op.
   */
  async finishSession(sessionId: string, body: unknown): Promise<unknown> {
    const b = parseBody(w.finishSessionSchema, body, 'sessions/finish');
    const s = this.sessions.get(sessionId);
    if (!s) throw new HttpError(404, `unknown session_id '${sessionId}'`);
    if (s.finished === undefined) {
      s.finished = b.reason.type;
      const closing: Promise<void>[] = [];
      s.stop.abort(new HttpError(410, `session ${sessionId} has finished`));
      for (const m of this.models.values()) {
        if (m.sessionId === sessionId && !m.unloaded) {
          closing.push(this.unload(m, `model ${m.id} was unloaded: its session has finished`));
        }
      }
      await Promise.all(closing);
    }
    return { session_id: sessionId, status: s.finished };
  }

  /** A live session, or 404 (unknown) / 410 (finished: the SDK's signal to stop). */
  private session(id: string): TinkerSession {
    const s = this.sessions.get(id);
    if (!s) throw new HttpError(404, `unknown session_id '${id}'`);
    if (s.finished !== undefined) {
      throw new HttpError(410, `session ${id} has finished (${s.finished}); create a new session`);
    }
    return s;
  }

  private checkBaseModel(name: string, field: string): void {
    if (name !== this.opts.provider.modelName) {
      throw new HttpError(
        404,
        `${field} '${name}' is not served here; this server serves '${this.opts.provider.modelName}'`,
      );
    }
  }

  /** Returns a remembered id for a retried (identical) request, or throws 409 for a changed one. */
  private deduped(key: string, bodyKey: string): string | undefined {
    const old = this.dedup.get(key);
    if (!old) return undefined;
    if (old.bodyKey !== bodyKey) {
      throw new HttpError(409, `${key} was already used for a different request`);
    }
    return old.id;
  }

  /** Remember a dedup record; the oldest go first once there are too many. */
  private remember(key: string, bodyKey: string, id: string): void {
    this.dedup.set(key, { bodyKey, id });
    if (this.dedup.size > 20_000) {
      const oldest = this.dedup.keys().next();
      if (!oldest.done) this.dedup.delete(oldest.value);
    }
  }

  private async createModel(body: unknown): Promise<unknown> {
    const b = parseBody(w.createModelSchema, body, 'create_model');
    this.session(b.session_id);
    this.checkBaseModel(b.base_model, 'base_model');
    const key = `create_model ${b.session_id}/${b.model_seq_id ?? `auto-${++this.counter}`}`;
    const bodyKey = JSON.stringify(body);
    const prior = this.deduped(key, bodyKey);
    if (prior) return { request_id: prior };
    const model = await this.newModel(b.session_id, b.model_seq_id, loraOptions(b.lora_config));
    const id = model.id;
    const requestId = this.futures.track(
      model.slot.engine.then(() => ({ model_id: id, type: 'create_model' })),
    );
    this.remember(key, bodyKey, requestId);
    return { request_id: requestId, model_id: id };
  }

  /**
   * A training model on a fresh engine (reserved against --max-engines). Its id is the hosted form
   * `<session>:train:<model_seq_id>`, which SDK >= 0.30 derives on its own for a model created by
   * load_weights.
   */
  private async newModel(
    sessionId: string,
    modelSeqId: number | undefined,
    lora: LoraOptions | undefined,
  ): Promise<TrainingModel> {
    const id = modelSeqId !== undefined ? `${sessionId}:train:${modelSeqId}` : this.newId('model');
    const taken = (): HttpError =>
      new HttpError(409, `model ${id} exists already (model_seq_id ${modelSeqId} was used)`);
    if (this.models.has(id)) throw taken();
    await this.reserveEngine();
    if (this.models.has(id)) throw taken(); // created meanwhile
    const engine = this.opts.provider.create({
      ledger: this.kv.ledger,
      ...(lora ? { lora } : {}),
    });
    const model: TrainingModel = {
      id,
      sessionId,
      loraRank: lora?.rank ?? 0,
      lora,
      slot: new EngineSlot(engine),
      queue: new ModelQueue(id, (work) => this.futures.track(work)),
      counters: { forward: 0, forwardBackward: 0, optimStep: 0, saves: 0, loads: 0 },
      samplerVersion: 0,
      unloaded: false,
      stop: new AbortController(),
    };
    this.models.set(id, model);
    // A model whose engine failed to start holds nothing: forget it, so it does not count.
    engine.catch(() => {
      if (this.models.get(id) === model) this.models.delete(id);
    });
    return model;
  }

  /** Unload a training model: its running samples stop, then its engine closes. */
  private unload(m: TrainingModel, reason: string): Promise<void> {
    m.unloaded = true;
    m.stop.abort(new HttpError(410, reason));
    return m.slot.retire(reason);
  }

  private model(id: string): TrainingModel {
    const m = this.models.get(id);
    if (!m || m.unloaded) throw new HttpError(404, `unknown model_id '${id}'`);
    return m;
  }

  private async getInfo(body: unknown): Promise<unknown> {
    const b = parseBody(w.modelIdSchema, body, 'get_info');
    const m = this.model(b.model_id);
    const name = this.opts.provider.modelName;
    await m.slot.engine;
    return {
      model_id: m.id,
      model_data: { arch: 'qwen3', model_name: name, tokenizer_id: name },
      is_lora: m.loraRank > 0,
      ...(m.loraRank > 0 ? { lora_rank: m.loraRank } : {}),
      model_name: name,
      type: 'get_info',
    };
  }

  private unloadModel(body: unknown): Promise<unknown> {
    const b = parseBody(w.modelIdSchema, body, 'unload_model');
    const m = this.model(b.model_id);
    const work = this.unload(m, `model ${m.id} was unloaded`).then(() => ({
      model_id: m.id,
      type: 'unload_model',
    }));
    return Promise.resolve({ request_id: this.futures.track(work), model_id: m.id });
  }

  private forward(body: unknown, backward: boolean): Promise<unknown> {
    const route = backward ? 'forward_backward' : 'forward';
    let modelId: string;
    let seqId: number | undefined;
    let input: w.ForwardBackwardInputWire;
    if (backward) {
      const b = parseBody(w.forwardBackwardSchema, body, route);
      [modelId, seqId, input] = [b.model_id, b.seq_id, b.forward_backward_input];
    } else {
      const b = parseBody(w.forwardSchema, body, route);
      [modelId, seqId, input] = [b.model_id, b.seq_id, b.forward_input];
    }
    const m = this.model(modelId);
    const data = input.data.map((d, i) => w.decodeDatum(d, `data[${i}]`));
    const config = w.decodeLossConfig(input.loss_fn, input.loss_fn_config);
    const requestId = m.queue.submit(seqId, JSON.stringify(body), () =>
      m.slot.run(async (e) => {
        const r = backward
          ? await e.forwardBackward(data, input.loss_fn, config)
          : await e.forward(data, input.loss_fn, config);
        if (backward) m.counters.forwardBackward++;
        else m.counters.forward++;
        return w.encodeForwardBackwardOutput(r);
      }),
    );
    return Promise.resolve({ request_id: requestId, model_id: m.id });
  }

  private optimStep(body: unknown): Promise<unknown> {
    const b = parseBody(w.optimStepSchema, body, 'optim_step');
    const m = this.model(b.model_id);
    const adam = w.decodeAdamParams(b.adam_params);
    const requestId = m.queue.submit(b.seq_id, JSON.stringify(body), () =>
      m.slot.run(async (e) => {
        const r = await e.optimStep(adam);
        m.counters.optimStep++;
        return { metrics: r.metrics, type: 'optim_step' };
      }),
    );
    return Promise.resolve({ request_id: requestId, model_id: m.id });
  }

  private saveWeights(body: unknown): Promise<unknown> {
    const b = parseBody(w.saveWeightsSchema, body, 'save_weights');
    const m = this.model(b.model_id);
    const name = b.path ?? `state-${++this.counter}`;
    const path = `tinker://${m.id}/weights/${name}`;
    if (this.checkpoints.has(path) && !b.overwrite) {
      throw new HttpError(
        409,
        `checkpoint ${path} already exists (send overwrite: true to replace)`,
      );
    }
    const requestId = m.queue.submit(b.seq_id, JSON.stringify(body), () =>
      m.slot.run(async (e) => {
        const ref = await e.save(`${fileSafe(m.id)}-weights-${name}`);
        this.recordCheckpoint(path, ref, m);
        m.counters.saves++;
        return { path, type: 'save_weights' };
      }),
    );
    return Promise.resolve({ request_id: requestId, model_id: m.id });
  }

  private saveForSampler(body: unknown): Promise<unknown> {
    const b = parseBody(w.saveWeightsForSamplerSchema, body, 'save_weights_for_sampler');
    const m = this.model(b.model_id);
    const ephemeralSeq = b.sampling_session_seq_id;
    if (b.path == null && ephemeralSeq == null) {
      throw new HttpError(
        400,
        'save_weights_for_sampler needs a path (name) or a sampling_session_seq_id',
      );
    }
    const name = b.path ?? undefined;
    const path = name !== undefined ? `tinker://${m.id}/sampler_weights/${name}` : undefined;
    const requestId = m.queue.submit(b.seq_id, JSON.stringify(body), () =>
      m.slot.run(async (e) => {
        const result: Record<string, unknown> = { type: 'save_weights_for_sampler' };
        if (path !== undefined) {
          const ref = await e.save(`${fileSafe(m.id)}-sampler-${name}`);
          this.recordCheckpoint(path, ref, m);
          result.path = path;
        }
        if (ephemeralSeq != null) {
          await e.refreshSampler();
          m.samplerVersion++;
          const id = `${m.sessionId}:sample:${ephemeralSeq}`;
          this.samplers.set(id, {
            id,
            sessionId: m.sessionId,
            slot: m.slot,
            model: m,
            version: m.samplerVersion,
          });
          result.sampling_session_id = id;
        }
        return result;
      }),
    );
    return Promise.resolve({ request_id: requestId, model_id: m.id });
  }

  /**
   * Remember a (re-)saved checkpoint. Engines loaded from an earlier save of the same folder hold
   * old weights: they are retired, so new sessions on the path load the new save.
   */
  private recordCheckpoint(path: string, ref: string, m: TrainingModel): void {
    this.checkpoints.set(path, {
      ref,
      modelId: m.id,
      lora: m.lora,
      generation: ++this.generation,
    });
    for (const [key, slot] of this.pathSlots) {
      if (key.startsWith(`${ref}#`)) {
        this.pathSlots.delete(key);
        void slot.retire(
          `checkpoint ${path} was saved again since this sampling session was created; create a new sampling session for the new weights`,
        );
      }
    }
  }

  private checkpoint(path: string): Checkpoint {
    // SkyRL's named sampler path has no kind segment; accept it as an alias.
    const c =
      this.checkpoints.get(path) ??
      this.checkpoints.get(path.replace(/^(tinker:\/\/[^/]+)\/([^/]+)$/, '$1/sampler_weights/$2'));
    if (!c)
      throw new HttpError(404, `unknown checkpoint path '${path}' (not saved by this server)`);
    return c;
  }

  private loadWeights(body: unknown): Promise<unknown> {
    const b = parseBody(w.loadWeightsSchema, body, 'load_weights');
    const ckpt = this.checkpoint(b.path);
    if (b.model_id == null) return this.createViaLoad(b, ckpt, JSON.stringify(body));
    const m = this.model(b.model_id);
    const requestId = m.queue.submit(
      b.seq_id ?? undefined,
      JSON.stringify(body),
      () =>
        m.slot.run(async (e) => {
          await e.load(ckpt.ref);
          m.counters.loads++;
          return { path: b.path, model_id: m.id, type: 'load_weights' };
        }),
      (seq) => {
        if (seq !== 1) {
          throw new HttpError(
            400,
            `load_weights is only accepted as a model's first request (seq_id 1), got seq_id ${seq}; create a new model to load into`,
          );
        }
      },
    );
    return Promise.resolve({ request_id: requestId, model_id: m.id });
  }

  /**
   * SDK >= 0.30's create-via-load: one load_weights addressed by session_id + model_seq_id creates
   * the model (LoRA shape from the checkpoint) with the load as its first request; the model's
   * own seq_ids then start at 1.
   */
  private async createViaLoad(
    b: w.LoadWeightsWire,
    ckpt: Checkpoint,
    bodyKey: string,
  ): Promise<unknown> {
    if (b.session_id == null || b.model_seq_id == null) {
      throw new HttpError(
        400,
        'load_weights needs model_id (+ seq_id), or session_id + model_seq_id to create the model',
      );
    }
    this.session(b.session_id);
    if (b.base_model != null) this.checkBaseModel(b.base_model, 'base_model');
    const key = `create_model ${b.session_id}/${b.model_seq_id}`;
    const prior = this.deduped(key, bodyKey);
    if (prior) return { request_id: prior };
    const m = await this.newModel(b.session_id, b.model_seq_id, ckpt.lora);
    const work = m.slot.run(async (e) => {
      await e.load(ckpt.ref);
      m.counters.loads++;
      return { path: b.path, model_id: m.id, type: 'load_weights' };
    });
    const requestId = this.futures.track(work);
    this.remember(key, bodyKey, requestId);
    return { request_id: requestId, model_id: m.id };
  }

  /** What `create_training_client_from_state` reads before creating the model to load into. */
  private weightsInfo(body: unknown): Promise<unknown> {
    const b = parseBody(w.weightsInfoSchema, body, 'weights_info');
    const c = this.checkpoint(b.tinker_path);
    return Promise.resolve({
      base_model: this.opts.provider.modelName,
      is_lora: c.lora !== undefined,
      ...(c.lora
        ? {
            lora_rank: c.lora.rank,
            train_unembed: false,
            train_mlp: c.lora.targets?.includes('gate_proj') ?? true,
            train_attn: c.lora.targets?.includes('q_proj') ?? true,
          }
        : {}),
    });
  }

  private async slotForPath(path: string): Promise<EngineSlot> {
    const ckpt = this.checkpoint(path);
    const key = `${ckpt.ref}#${ckpt.generation}`;
    const cached = this.pathSlots.get(key);
    if (cached) return cached;
    await this.reserveEngine();
    const engine = this.opts.provider.create({ ledger: this.kv.ledger }).then(async (e) => {
      try {
        await e.load(ckpt.ref);
        await e.refreshSampler();
        return e;
      } catch (err) {
        await e.close(); // a failed load must not leave a worker behind
        throw err;
      }
    });
    const slot = new EngineSlot(engine);
    this.pathSlots.set(key, slot);
    // Not cached when it fails: the next request retries (the folder may be fixed by then).
    engine.catch(() => {
      if (this.pathSlots.get(key) === slot) this.pathSlots.delete(key);
    });
    return slot;
  }

  private async createSamplingSession(body: unknown): Promise<unknown> {
    const b = parseBody(w.createSamplingSessionSchema, body, 'create_sampling_session');
    this.session(b.session_id);
    if ((b.base_model == null) === (b.model_path == null)) {
      throw new HttpError(
        400,
        'create_sampling_session needs exactly one of base_model and model_path',
      );
    }
    const id = `${b.session_id}:sample:${b.sampling_session_seq_id}`;
    const prior = this.deduped(`sampling session ${id}`, JSON.stringify(body));
    if (prior) return { sampling_session_id: prior, type: 'create_sampling_session' };
    let session: SamplingSession;
    if (b.model_path != null) {
      session = {
        id,
        sessionId: b.session_id,
        slot: await this.slotForPath(b.model_path),
        modelPath: b.model_path,
      };
    } else {
      this.checkBaseModel(b.base_model!, 'base_model');
      session = { id, sessionId: b.session_id, slot: this.base };
    }
    this.samplers.set(id, session);
    this.remember(`sampling session ${id}`, JSON.stringify(body), id);
    return { sampling_session_id: id, type: 'create_sampling_session' };
  }

  private async sample(body: unknown): Promise<unknown> {
    const b = parseBody(w.sampleRequestSchema, body, 'asample');
    const ways = [b.sampling_session_id, b.model_path, b.base_model].filter((x) => x != null);
    if (ways.length !== 1) {
      throw new HttpError(
        400,
        'asample needs exactly one of sampling_session_id, model_path, base_model',
      );
    }
    if (b.target_prompt_logprobs != null) {
      throw new HttpError(400, 'asample: target_prompt_logprobs is not supported by spell serve');
    }
    if (b.prompt_alt_tokens_k > 0) {
      throw new HttpError(400, 'asample: prompt_alt_tokens_k is not supported by spell serve');
    }
    // A positive top-k implies prompt log-probs (as SkyRL and the hosted service do).
    const scorePrompt = b.prompt_logprobs === true || b.topk_prompt_logprobs > 0;
    let slot: EngineSlot;
    let session: SamplingSession | undefined;
    if (b.sampling_session_id != null) {
      session = this.samplers.get(b.sampling_session_id);
      if (!session)
        throw new HttpError(404, `unknown sampling_session_id '${b.sampling_session_id}'`);
      slot = session.slot;
    } else if (b.model_path != null) {
      slot = await this.slotForPath(b.model_path);
    } else {
      this.checkBaseModel(b.base_model!, 'base_model');
      slot = this.base;
    }
    const prompt = w.decodeModelInput(b.prompt, 'prompt');
    const params = w.decodeSamplingParams(b.sampling_params, this.opts.defaultMaxTokens ?? 256);
    const tokens = b.num_samples * (prompt.length + params.maxTokens);
    // A future has no connection to watch: its sample stops when the server closes, when the
    // Tinker session of its sampling session finishes, or when the model it samples is unloaded.
    const owner = session ? this.sessions.get(session.sessionId) : undefined;
    const signal = AbortSignal.any([
      this.stopping.signal,
      ...(owner ? [owner.stop.signal] : []),
      ...(session?.model ? [session.model.stop.signal] : []),
    ]);
    const run = (): Promise<unknown> =>
      this.kv.claim(tokens, 'asample', () =>
        slot.run(
          async (e) => {
            const m = session?.model;
            if (m && (m.unloaded || session?.version !== m.samplerVersion)) {
              throw new HttpError(
                400,
                `sampling session ${session?.id} is stale: model ${m.id} has replaced those sampler weights (spell serve keeps only a model's latest sampler); create a new sampling session`,
              );
            }
            const r = await e.sample(
              {
                prompt,
                numSamples: b.num_samples,
                params,
                ...(b.topk_sample_logprobs > 0 ? { topLogprobs: b.topk_sample_logprobs } : {}),
                ...(scorePrompt ? { promptLogprobs: { topK: b.topk_prompt_logprobs } } : {}),
              },
              signal,
            );
            // prompt_logprobs_last_n: only the last n positions are reported, the rest are null.
            const keepFrom = b.prompt_logprobs_last_n
              ? prompt.length - b.prompt_logprobs_last_n
              : 0;
            const tail = <T>(xs: T[] | undefined, empty: T): T[] | null =>
              xs ? xs.map((x, i) => (i >= keepFrom ? x : empty)) : null;
            return {
              type: 'sample',
              sequences: r.sequences.map((s) => ({
                tokens: s.tokens,
                logprobs: s.logprobs,
                stop_reason: s.stopReason,
                ...(s.topLogprobs
                  ? { topk_logprobs: s.topLogprobs.map((row) => row.map(([t, l]) => [t, l])) }
                  : {}),
              })),
              prompt_logprobs: scorePrompt ? tail(r.promptLogprobs, null) : null,
              topk_prompt_logprobs:
                b.topk_prompt_logprobs > 0
                  ? (tail(
                      r.promptTopLogprobs?.map((row, i) =>
                        i === 0 ? null : row.map(([t, l]) => [t, l]),
                      ),
                      null,
                    ) ?? null)
                  : null,
            };
          },
          signal,
          'shared',
        ),
      );
    // SDK >= 0.30 stamps each sampled sequence with an id from the submission answer.
    const submitted = (requestId: string): unknown => ({
      request_id: requestId,
      sample_sequence_ids: Array.from({ length: b.num_samples }, (_, i) => `${requestId}:${i}`),
    });
    if (b.sampling_session_id != null && b.seq_id != null) {
      const key = `asample ${b.sampling_session_id}/${b.seq_id}`;
      const bodyKey = JSON.stringify(body);
      const prior = this.deduped(key, bodyKey);
      if (prior && this.futures.has(prior)) return submitted(prior);
      const requestId = this.futures.track(run());
      this.remember(key, bodyKey, requestId);
      return submitted(requestId);
    }
    return submitted(this.futures.track(run()));
  }

  private async retrieveFuture(body: unknown): Promise<unknown> {
    const b = parseBody(w.retrieveFutureSchema, body, 'retrieve_future');
    const state = await this.futures.wait(b.request_id, this.opts.longPollMs ?? 25_000);
    if (state.status === 'pending') {
      return { type: 'try_again', request_id: b.request_id, queue_state: 'active' };
    }
    if (state.status === 'failed') {
      return { error: scrubPaths(state.error), category: state.category };
    }
    return state.result;
  }
}

/** A model id as part of an engine checkpoint name (hosted ids hold colons). */
function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * The adapters a create_model's lora_config asks for: its rank and seed, and the targets of
 * train_attn / train_mlp (default both, as Tinker; alpha 32 as SkyRL tx). No lora_config: full
 * fine-tuning (a spell extension; Tinker clients always send one). train_unembed is not
 * supported by the embedded engine and is ignored, as SkyRL tx does.
 */
function loraOptions(c: z.infer<typeof w.loraConfigSchema> | undefined): LoraOptions | undefined {
  if (!c) return undefined;
  const targets = [
    ...(c.train_attn === false ? [] : ['q_proj', 'k_proj', 'v_proj', 'o_proj']),
    ...(c.train_mlp === false ? [] : ['gate_proj', 'up_proj', 'down_proj']),
  ];
  if (targets.length === 0) {
    throw new HttpError(400, 'lora_config trains nothing: train_attn and train_mlp are both false');
  }
  return { rank: c.rank, targets, ...(c.seed != null ? { seed: c.seed } : {}) };
}
