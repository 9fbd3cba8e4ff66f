/**
 * `TinkerEngine`: the PolicyEngine port over the Tinker REST protocol (JSON as SDK 0.24 spoke
 * it, or protobuf forward/backward as SDK >= 0.25 does), for SkyRL tx, the hosted Tinker service
 * and `spell serve`.
 *
 * Ordering: every training-model request (forward, forward_backward, optim_step, save_weights,
 * save_weights_for_sampler, load_weights) takes the next per-model `seq_id` at call time, and its
 * POST is sent only after the previous one has been accepted (the SDK's turn-taking), so callers may
 * pipeline `forwardBackward` + `optimStep` without awaiting. Results may be awaited in any order.
 * Retries resend the identical body with the same `seq_id`; servers de-duplicate, so a retry never
 * applies an update twice.
 *
 * Sampling: a versioned sampler handle. Until the first `refreshSampler()` samples come from the
 * base model; each refresh is an ephemeral `save_weights_for_sampler` that yields a new sampling
 * session, so stale weights cannot be sampled by accident.
 *
 * Encoding: JSON by default; `wire: 'protobuf'` speaks as SDK >= 0.25 (proto.ts).
 *
 * Not implemented: chunking of very large forward_backward calls (> 1024 datums),
 * prompt logprobs, string stop sequences, JWT auth, checkpoint listing/publishing, telemetry.
 */
import { ConfigurationError, RemoteEngineError } from '../../core/errors.ts';
import type {
  AdamParams,
  Datum,
  EngineInfo,
  ForwardBackwardResult,
  LossAggregation,
  LossConfig,
  LossName,
  OptimResult,
  PolicyEngine,
  SampleRequest,
  SampleResult,
} from '../types.ts';
import { awaitFuture, submitFuture, type FutureOptions, type ProtoDecoder } from './futures.ts';
import * as proto from './proto.ts';
import { TinkerHttp, type HttpOptions } from './http.ts';
import { TinkerSession } from './session.ts';
import {
  LOSS_TEMPERATURE_KEY,
  capabilitiesSchema,
  createModelResultSchema,
  createSamplingSessionResultSchema,
  decodeForwardBackwardOutput,
  decodeSequences,
  encodeAdamParams,
  encodeDatum,
  encodeLossConfig,
  encodeModelInput,
  encodeSamplingParams,
  forwardBackwardOutputSchema,
  getInfoResultSchema,
  isSkyrlInfo,
  optimStepResultSchema,
  sampleResultSchema,
  saveForSamplerResultSchema,
  saveWeightsResultSchema,
  truncateAtStopSequences,
} from './wire.ts';
import type { z } from 'zod';

export interface TinkerEngineOptions extends HttpOptions {
  /** The base model to train, as the server names it (e.g. `Qwen/Qwen3-8B`). */
  readonly baseModel: string;
  /** LoRA rank sent in create_model (default 32, the SDK default). */
  readonly loraRank?: number;
  readonly loraSeed?: number;
  /** Override the detected loss aggregation (SkyRL → 'sequence-token-mean', else 'sum'). */
  readonly lossAggregation?: LossAggregation;
  /** Whether the server ignores `grad_clip_norm` (default: true for SkyRL). */
  readonly ignoresGradClip?: boolean;
  /** Reported by `info()`; the protocol itself never ships a tokenizer. */
  readonly tokenizerDir?: string;
  /** Context length when the server does not report one (default 32 768). */
  readonly maxContext?: number;
  /**
   * Wire encoding of forward/forward_backward: 'json' (SDK <= 0.24; SkyRL tx 0.3.0 takes only
   * this) or 'protobuf' (SDK >= 0.25: protobuf bodies, forward as `forward_only`, and protobuf
   * results asked for on polls). Default 'json'.
   */
  readonly wire?: 'json' | 'protobuf';
  /** Heartbeat period in ms (default 10 000; 0 disables, for tests only). */
  readonly heartbeatMs?: number;
  readonly futures?: FutureOptions;
  readonly tags?: readonly string[];
}

type ServerKind = 'hosted' | 'skyrl';

interface Sampler {
  readonly id: string;
  /** Bumped by every refresh, so a caller can tell handles apart. */
  readonly version: number;
  nextSeq: number;
}

export class TinkerEngine implements PolicyEngine {
  private nextSeq = 1;
  private turn: Promise<unknown> = Promise.resolve();
  private broken: Error | undefined;
  private sampler: Sampler | undefined;
  private samplerVersion = 0;
  private closed = false;

  private constructor(
    private readonly opts: TinkerEngineOptions,
    readonly http: TinkerHttp,
    private readonly session: TinkerSession,
    private modelId: string,
    readonly serverKind: ServerKind,
    private readonly engineInfo: EngineInfo,
  ) {}

  /**
   * Open a session, create a LoRA training model and read its info.
   * @example
   * const engine = await TinkerEngine.connect({ baseUrl: 'http://127.0.0.1:8000', baseModel: 'Qwen/Qwen3-4B' });
   * @throws RemoteEngineError when the server cannot be reached or refuses the model.
   */
  static async connect(opts: TinkerEngineOptions): Promise<TinkerEngine> {
    if (!/^https?:\/\//.test(opts.baseUrl)) {
      throw new ConfigurationError(
        `Tinker base URL '${opts.baseUrl}' must start with http:// or https://`,
      );
    }
    const http = new TinkerHttp(opts);
    const session = await TinkerSession.open(http, opts.tags ?? ['spell'], opts.heartbeatMs);
    try {
      const modelId = await createModel(http, session, opts);
      const infoRes = await http.call('POST', '/api/v1/get_info', {
        model_id: modelId,
        type: 'get_info',
      });
      const info = parseOr(getInfoResultSchema, infoRes.body, 'get_info', '/api/v1/get_info');
      const kind: ServerKind = isSkyrlInfo(info) ? 'skyrl' : 'hosted';
      const modelName = info.model_data?.model_name ?? info.model_name ?? opts.baseModel;
      let maxContext = opts.maxContext;
      let vocabSize: number | undefined;
      let lossTemperature = false;
      try {
        const caps = await http.call('GET', '/api/v1/get_server_capabilities');
        const parsed = capabilitiesSchema.safeParse(caps.body);
        const entry = parsed.success
          ? parsed.data.supported_models.find(
              (m) => m.model_name === opts.baseModel || m.model_name === modelName,
            )
          : undefined;
        maxContext ??= entry?.max_context_length ?? undefined;
        const v = entry?.vocab_size;
        if (typeof v === 'number') vocabSize = v;
        lossTemperature = parsed.success
          ? (parsed.data.loss_fn_config_keys ?? []).includes(LOSS_TEMPERATURE_KEY)
          : false;
      } catch {
        // Capabilities are optional; older servers do not have the route.
      }
      const engineInfo: EngineInfo = {
        modelName,
        maxContext: maxContext ?? 32_768,
        lossAggregation: opts.lossAggregation ?? (kind === 'skyrl' ? 'sequence-token-mean' : 'sum'),
        lossTemperature,
        ...(opts.tokenizerDir ? { tokenizerDir: opts.tokenizerDir } : {}),
        ...(vocabSize !== undefined ? { vocabSize } : {}),
      };
      return new TinkerEngine(opts, http, session, modelId, kind, engineInfo);
    } catch (err) {
      session.close();
      throw err;
    }
  }

  /** The server's id of the training model currently driven (changes after `load`). */
  get currentModelId(): string {
    return this.modelId;
  }

  /** The current sampling session id, if any (a new one after each `refreshSampler`). */
  get samplerHandle(): { id: string; version: number } | undefined {
    return this.sampler ? { id: this.sampler.id, version: this.sampler.version } : undefined;
  }

  info(): Promise<EngineInfo> {
    return Promise.resolve(this.engineInfo);
  }

  async sample(req: SampleRequest): Promise<SampleResult> {
    this.checkOpen();
    const sampler = this.sampler ?? (await this.baseSampler());
    const body = {
      sampling_session_id: sampler.id,
      seq_id: sampler.nextSeq++,
      num_samples: req.numSamples,
      prompt: encodeModelInput(req.prompt),
      sampling_params: encodeSamplingParams(req.params),
      prompt_logprobs: false,
      topk_prompt_logprobs: 0,
      type: 'sample',
    };
    const submit = (): Promise<string> => submitFuture(this.http, '/api/v1/asample', body);
    const raw = await awaitFuture(
      this.http,
      await submit(),
      'asample',
      submit,
      this.opts.futures,
      this.opts.wire === 'protobuf' ? proto.decodeSampleResponse : undefined,
    );
    const res = parseOr(sampleResultSchema, raw, 'asample result', '/api/v1/asample');
    if (res.sequences.length !== req.numSamples) {
      throw new RemoteEngineError(
        `asample returned ${res.sequences.length} sequences; expected num_samples = ${req.numSamples}`,
        '/api/v1/asample',
        200,
        raw,
      );
    }
    const sequences = decodeSequences(res).map((s) =>
      truncateAtStopSequences(s, req.params.stopSequences),
    );
    return { sequences };
  }

  forward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): Promise<ForwardBackwardResult> {
    return this.fwd('/api/v1/forward', 'forward_input', data, loss, config);
  }

  forwardBackward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): Promise<ForwardBackwardResult> {
    return this.fwd('/api/v1/forward_backward', 'forward_backward_input', data, loss, config);
  }

  async optimStep(adam: AdamParams): Promise<OptimResult> {
    const raw = await this.training('/api/v1/optim_step', 'optim_step', {
      adam_params: encodeAdamParams(adam),
      type: 'optim_step',
    });
    const res = parseOr(optimStepResultSchema, raw, 'optim_step result', '/api/v1/optim_step');
    const metrics: Record<string, number> = { ...(res.metrics ?? {}) };
    const skyNorm = metrics['skyrl.ai/grad_norm'];
    if (metrics.grad_norm === undefined && skyNorm !== undefined) metrics.grad_norm = skyNorm;
    const ignoresClip = this.opts.ignoresGradClip ?? this.serverKind === 'skyrl';
    if (ignoresClip && adam.gradClipNorm > 0) metrics['warning/grad_clip_norm_ignored'] = 1;
    return { metrics };
  }

  async refreshSampler(): Promise<void> {
    const samplingSeq = this.session.nextSamplingSeq();
    const raw = await this.training(
      '/api/v1/save_weights_for_sampler',
      'save_weights_for_sampler',
      {
        sampling_session_seq_id: samplingSeq,
        type: 'save_weights_for_sampler',
      },
    );
    const res = parseOr(
      saveForSamplerResultSchema,
      raw,
      'save_weights_for_sampler result',
      '/api/v1/save_weights_for_sampler',
    );
    if (res.sampling_session_id) {
      this.sampler = { id: res.sampling_session_id, version: ++this.samplerVersion, nextSeq: 0 };
    } else if (res.path) {
      this.sampler = await this.openSampler({ model_path: res.path });
    } else {
      throw new RemoteEngineError(
        'save_weights_for_sampler returned neither sampling_session_id nor path',
        '/api/v1/save_weights_for_sampler',
        200,
        raw,
      );
    }
  }

  async save(name: string): Promise<string> {
    const raw = await this.training('/api/v1/save_weights', 'save_weights', {
      path: name,
      type: 'save_weights',
    });
    return parseOr(saveWeightsResultSchema, raw, 'save_weights result', '/api/v1/save_weights')
      .path;
  }

  /**
   * Load a `tinker://…/weights/<name>` state (weights + optimizer). Servers accept load_weights only
   * as a model's first request, so after any training a fresh model is created for it (as the
   * SDK's create_training_client_from_state does). The sampler is refreshed to the loaded weights.
   */
  async load(ref: string): Promise<void> {
    this.checkOpen();
    await this.turn;
    if (this.nextSeq !== 1) {
      const old = this.modelId;
      this.modelId = await createModel(this.http, this.session, this.opts);
      this.nextSeq = 1;
      await this.unload(old);
    }
    await this.training('/api/v1/load_weights', 'load_weights', {
      path: ref,
      optimizer: true,
      type: 'load_weights',
    });
    await this.refreshSampler();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
    await this.turn;
    await this.unload(this.modelId);
  }

  // -------------------------------------------------------------------------------------------

  private async fwd(
    path: string,
    key: 'forward_input' | 'forward_backward_input',
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): Promise<ForwardBackwardResult> {
    // A server that did not advertise the temperature key would refuse it (SkyRL answers 4xx):
    // it is dropped here, and the trainer reports that the learner runs at temperature 1.
    const lossConfig = encodeLossConfig(
      config && !this.engineInfo.lossTemperature ? withoutTemperature(config) : config,
    );
    const input = {
      data: data.map(encodeDatum),
      loss_fn: loss,
      ...(lossConfig ? { loss_fn_config: lossConfig } : {}),
    };
    const what = key === 'forward_input' ? 'forward' : 'forward_backward';
    const raw =
      this.opts.wire === 'protobuf'
        ? // SDK >= 0.25: both passes go to forward_backward, a forward as `forward_only`.
          await this.training(
            '/api/v1/forward_backward',
            what,
            {},
            (body) => proto.encodeForwardBackwardRequest(body, input, key === 'forward_input'),
            proto.decodeForwardBackwardOutput,
          )
        : await this.training(path, what, { [key]: input });
    const out = parseOr(forwardBackwardOutputSchema, raw, `${key} result`, path);
    return decodeForwardBackwardOutput(out, data.length);
  }

  /**
   * Submit one training-model request in seq_id order and await its future. The seq_id is taken
   * synchronously, so call order is execution order; a failed submission leaves a gap the server
   * would wait on forever, so the engine refuses further training requests after one.
   */
  private async training(
    path: string,
    what: string,
    fields: object,
    encode?: (body: { model_id: string; seq_id: number }) => Uint8Array,
    decode?: ProtoDecoder,
  ): Promise<unknown> {
    this.checkOpen();
    if (this.broken) {
      throw new RemoteEngineError(
        `an earlier request could not be submitted (${this.broken.message}), so the model's seq_id stream has a gap; create a new engine`,
        path,
        undefined,
        undefined,
        { cause: this.broken },
      );
    }
    const body = { model_id: this.modelId, seq_id: this.nextSeq++, ...fields };
    const bytes = encode
      ? { data: encode(body), contentType: proto.PROTO_CONTENT_TYPE }
      : undefined;
    const submit = (): Promise<string> => submitFuture(this.http, path, body, bytes);
    const submitted = this.turn.then(submit);
    this.turn = submitted.catch((err: unknown) => {
      this.broken = err instanceof Error ? err : new Error(String(err));
    });
    const requestId = await submitted;
    return awaitFuture(this.http, requestId, what, submit, this.opts.futures, decode);
  }

  private async baseSampler(): Promise<Sampler> {
    this.sampler = await this.openSampler({ base_model: this.opts.baseModel });
    return this.sampler;
  }

  private async openSampler(
    target: { base_model: string } | { model_path: string },
  ): Promise<Sampler> {
    const endpoint = '/api/v1/create_sampling_session';
    const res = await this.http.call('POST', endpoint, {
      session_id: this.session.sessionId,
      sampling_session_seq_id: this.session.nextSamplingSeq(),
      ...target,
      type: 'create_sampling_session',
    });
    const parsed = parseOr(
      createSamplingSessionResultSchema,
      res.body,
      'create_sampling_session',
      endpoint,
    );
    return { id: parsed.sampling_session_id, version: ++this.samplerVersion, nextSeq: 0 };
  }

  private async unload(modelId: string): Promise<void> {
    try {
      await submitFuture(this.http, '/api/v1/unload_model', {
        model_id: modelId,
        type: 'unload_model',
      });
    } catch {
      // Best effort: an unload that fails only leaves the model to the server's session timeout.
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new ConfigurationError('TinkerEngine used after close()');
  }
}

async function createModel(
  http: TinkerHttp,
  session: TinkerSession,
  opts: TinkerEngineOptions,
): Promise<string> {
  const path = '/api/v1/create_model';
  const body = {
    session_id: session.sessionId,
    model_seq_id: session.nextModelSeq(),
    base_model: opts.baseModel,
    // Rank 0 sends no lora_config: spell serve then trains the full weights.
    ...(opts.loraRank === 0
      ? {}
      : {
          lora_config: {
            rank: opts.loraRank ?? 32,
            ...(opts.loraSeed !== undefined ? { seed: opts.loraSeed } : {}),
            train_unembed: true,
            train_mlp: true,
            train_attn: true,
          },
        }),
    type: 'create_model',
  };
  const submit = (): Promise<string> => submitFuture(http, path, body);
  const raw = await awaitFuture(http, await submit(), 'create_model', submit, opts.futures);
  return parseOr(createModelResultSchema, raw, 'create_model result', path).model_id;
}

function parseOr<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what: string,
  endpoint: string,
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
    throw new RemoteEngineError(`${what} has an unexpected shape (${where})`, endpoint, 200, value);
  }
  return parsed.data;
}

function withoutTemperature(c: LossConfig): LossConfig {
  return {
    ...(c.clipLowThreshold !== undefined ? { clipLowThreshold: c.clipLowThreshold } : {}),
    ...(c.clipHighThreshold !== undefined ? { clipHighThreshold: c.clipHighThreshold } : {}),
  };
}
