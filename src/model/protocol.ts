/**
 * The messages between a ModelRunner (main thread) and its model worker. One request in flight
 * per id; the worker answers each with exactly one response. Plain structured-clone data only.
 */
import type {
  AdamParams,
  Datum,
  ForwardBackwardResult,
  LossConfig,
  LossName,
  SampleRequest,
  SampleResult,
} from '../core/policy-types.ts';

/** Where the worker's model comes from. */
export type ModelSource =
  | { readonly kind: 'folder'; readonly dir: string }
  | {
      readonly kind: 'random';
      readonly hfConfig: Readonly<Record<string, unknown>>;
      readonly seed: number;
    };

/** What `info` reports. */
export interface RunnerModelInfo {
  readonly hfConfig: Readonly<Record<string, unknown>>;
  readonly paramCount: number;
  readonly optimizerStep: number;
  /** LoRA rank of the trained adapters (0: full fine-tuning). */
  readonly loraRank: number;
  readonly gemmBackend: string;
}

/** LoRA adapters to train instead of the full weights (see lora.ts; defaults there). */
export interface LoraOptions {
  readonly rank: number;
  readonly alpha?: number;
  readonly targets?: readonly string[];
  readonly seed?: number;
}

/** Request payloads and results, by operation. */
export interface RunnerOps {
  init: {
    req: {
      source: ModelSource;
      gemmBackend?: 'native' | 'js';
      gemmThreads?: number;
      lora?: LoraOptions;
      /** The KvLedger buffer to account sampling memory in (default: the worker's own, unlimited). */
      ledger?: SharedArrayBuffer;
    };
    res: RunnerModelInfo;
  };
  info: { req: Record<string, never>; res: RunnerModelInfo };
  forward: {
    req: { data: readonly Datum[]; loss: LossName; config?: LossConfig };
    res: ForwardBackwardResult;
  };
  forwardBackward: {
    req: { data: readonly Datum[]; loss: LossName; config?: LossConfig };
    res: ForwardBackwardResult;
  };
  optimStep: { req: { adam: AdamParams }; res: Record<string, number> };
  sample: { req: { request: SampleRequest }; res: SampleResult };
  save: {
    req: { dir: string; adapter: Readonly<Record<string, unknown>>; tokenizerDir?: string };
    res: { dir: string };
  };
  load: { req: { dir: string }; res: { adapter: Readonly<Record<string, unknown>> } };
  /** Busy-loop for `ms` on the worker (tests of main-thread responsiveness only). */
  spin: { req: { ms: number }; res: { spun: number } };
}

export type RunnerOp = keyof RunnerOps;

/** A request as posted to the worker. */
export interface RunnerRequest<K extends RunnerOp = RunnerOp> {
  readonly id: number;
  readonly op: K;
  readonly payload: RunnerOps[K]['req'];
}

/**
 * Not a request: stop sample request `cancel` (queued or decoding). Its answer becomes an error the
 * runner no longer waits for.
 */
export interface RunnerControl {
  readonly cancel: number;
}

/** A response as posted back. */
export type RunnerResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | {
      readonly id: number;
      readonly ok: false;
      readonly errorName: string;
      readonly message: string;
    };
