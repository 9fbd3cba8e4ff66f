/**
 * ModelRunner: the async main-thread client of a model worker. Every call posts one request and
 * resolves with the worker's answer, so the main thread (an HTTP server, a progress bar, a
 * controller) keeps running while the model computes. Errors thrown in the worker come back as
 * the same spell error classes (by name), with the worker's message.
 */
import { Worker } from 'node:worker_threads';
import { tsWorkerBootstrap } from '../core/ts-worker.ts';
import {
  CheckpointError,
  ConfigurationError,
  DataError,
  EngineError,
  SpellError,
} from '../core/errors.ts';
import type {
  AdamParams,
  Datum,
  ForwardBackwardResult,
  LossConfig,
  LossName,
  SampleRequest,
  SampleResult,
} from '../core/policy-types.ts';
import type { GemmBackend } from './kernels/gemm.ts';
import { KvLedger } from './kv-ledger.ts';
import type {
  LoraOptions,
  ModelSource,
  RunnerControl,
  RunnerModelInfo,
  RunnerOp,
  RunnerOps,
  RunnerResponse,
} from './protocol.ts';

/** Options for starting a runner. */
export interface ModelRunnerOptions {
  readonly source: ModelSource;
  /** Forwarded to the worker's gemm (the CLI maps SPELL_NATIVE=0 to 'js'). */
  readonly gemmBackend?: GemmBackend;
  readonly gemmThreads?: number;
  /** Train LoRA adapters on a frozen base instead of the full weights. */
  readonly lora?: LoraOptions;
  /** Where sampling accounts its KV memory and tokens; shared by several runners to share a budget. */
  readonly ledger?: KvLedger;
}

const ERROR_CLASSES: Record<string, new (message: string) => SpellError> = {
  EngineError,
  CheckpointError,
  ConfigurationError,
  DataError,
};

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** An async handle on a model living in a worker thread. */
export class ModelRunner {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  /** Sample requests cancelled here whose answer from the worker has not arrived yet. */
  private readonly cancelling = new Set<number>();
  private cancelsSettled: (() => void) | undefined;
  private nextId = 1;
  private dead: Error | null = null;
  /** What the worker reported after loading the model. */
  modelInfo!: RunnerModelInfo;

  private constructor(
    /** KV memory held by this runner's samples (and others sharing it), tokens sampled, cancels. */
    readonly ledger: KvLedger,
  ) {
    this.worker = new Worker(tsWorkerBootstrap(new URL('./worker.ts', import.meta.url)), {
      eval: true,
    });
    this.worker.on('message', (res: RunnerResponse) => this.onMessage(res));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      this.fail(new EngineError(`model worker exited (code ${code})`));
    });
  }

  /**
   * Start a worker and load the model into it.
   * @throws the worker's CheckpointError/ConfigurationError when the model cannot be loaded
   */
  static async start(opts: ModelRunnerOptions): Promise<ModelRunner> {
    const runner = new ModelRunner(opts.ledger ?? KvLedger.create());
    try {
      runner.modelInfo = await runner.call('init', {
        source: opts.source,
        ledger: runner.ledger.buffer,
        ...(opts.gemmBackend ? { gemmBackend: opts.gemmBackend } : {}),
        ...(opts.gemmThreads ? { gemmThreads: opts.gemmThreads } : {}),
        ...(opts.lora ? { lora: opts.lora } : {}),
      });
    } catch (err) {
      await runner.close();
      throw err;
    }
    return runner;
  }

  private onMessage(res: RunnerResponse): void {
    if (this.cancelling.delete(res.id)) {
      if (this.cancelling.size === 0) this.cancelsSettled?.();
      return;
    }
    const p = this.pending.get(res.id);
    if (!p) return;
    this.pending.delete(res.id);
    if (res.ok) {
      p.resolve(res.result);
    } else {
      const Cls = ERROR_CLASSES[res.errorName];
      p.reject(Cls ? new Cls(res.message) : new EngineError(`model worker: ${res.message}`));
    }
  }

  private fail(err: Error): void {
    if (!this.dead) this.dead = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.cancelling.clear();
    this.cancelsSettled?.();
  }

  /** Post one request and await its answer. */
  call<K extends RunnerOp>(op: K, payload: RunnerOps[K]['req']): Promise<RunnerOps[K]['res']> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<RunnerOps[K]['res']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve, reject });
      this.worker.postMessage({ id, op, payload });
    });
  }

  /**
   * Post a sample request that `signal` may cancel: on abort the promise rejects with the
   * signal's reason at once, and the worker drops the request (queued) or stops it before its
   * next decode step, freeing its KV caches.
   */
  private cancellable(request: SampleRequest, signal: AbortSignal): Promise<SampleResult> {
    if (this.dead) return Promise.reject(this.dead);
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const id = this.nextId++;
    return new Promise<SampleResult>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.delete(id)) return;
        this.cancelling.add(id);
        const control: RunnerControl = { cancel: id };
        this.worker.postMessage(control);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v as SampleResult);
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      });
      this.worker.postMessage({ id, op: 'sample', payload: { request } });
    });
  }

  info(): Promise<RunnerModelInfo> {
    return this.call('info', {});
  }

  forward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): Promise<ForwardBackwardResult> {
    return this.call('forward', { data, loss, ...(config ? { config } : {}) });
  }

  forwardBackward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): Promise<ForwardBackwardResult> {
    return this.call('forwardBackward', { data, loss, ...(config ? { config } : {}) });
  }

  optimStep(adam: AdamParams): Promise<Record<string, number>> {
    return this.call('optimStep', { adam });
  }

  /** Sample; an abort of `signal` cancels the request, even one already decoding. */
  sample(request: SampleRequest, signal?: AbortSignal): Promise<SampleResult> {
    return signal ? this.cancellable(request, signal) : this.call('sample', { request });
  }

  /** Save a checkpoint folder (weights + optimizer + adapter state) atomically. */
  save(
    dir: string,
    adapter: Readonly<Record<string, unknown>> = {},
    tokenizerDir?: string,
  ): Promise<{ dir: string }> {
    return this.call('save', { dir, adapter, ...(tokenizerDir ? { tokenizerDir } : {}) });
  }

  /** Load a checkpoint (or plain model folder); resolves with its adapter state. */
  async load(dir: string): Promise<Readonly<Record<string, unknown>>> {
    return (await this.call('load', { dir })).adapter;
  }

  /**
   * Stop the worker; pending calls reject. Samples cancelled just before (a model unloaded with
   * requests running) are given up to `cancelWaitMs` to stop in the worker first: it frees their
   * KV caches and counts them in the shared ledger, which a terminated worker never would.
   */
  async close(cancelWaitMs = 5_000): Promise<void> {
    if (this.dead) return;
    if (this.cancelling.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, cancelWaitMs);
        this.cancelsSettled = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.cancelsSettled = undefined;
    }
    if (this.dead) return;
    this.dead = new EngineError('model runner is closed');
    await this.worker.terminate();
  }
}
