/**
 * One engine of `spell bench lora`, in its own process so that its peak RSS is its own: the
 * parent forks one child per mode (full fine-tuning, LoRA), sends `init`, then alternates `step`
 * between them, then asks each for its `report`. Messages are the ChildRequest / ChildAnswer
 * unions below over Node's IPC channel. Benchmark-only.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Rng } from '../core/rng.ts';
import { qwen3Config } from '../model/config.ts';
import { loraConfig } from '../model/lora.ts';
import { Qwen3Model } from '../model/model.ts';
import { loadModelFolder } from '../model/model-folder.ts';
import { gemmBackend, gemmThreads } from '../model/kernels/gemm.ts';

export type BenchMode = 'full' | 'lora';

export interface ChildInit {
  readonly cmd: 'init';
  readonly mode: BenchMode;
  /** An HF model folder, or null for random weights of `hfConfig`'s shape. */
  readonly modelDir: string | null;
  readonly hfConfig: Readonly<Record<string, unknown>> | null;
  readonly tokens: number;
  readonly rank: number;
}

export type ChildRequest = ChildInit | { readonly cmd: 'step' } | { readonly cmd: 'report' };

export interface ChildInitAnswer {
  readonly kind: 'init';
  readonly params: number;
  readonly trainableParams: number;
  readonly loraAlpha: number | null;
  readonly loraTargets: readonly string[] | null;
  readonly model: string;
  readonly gemm: string;
  readonly loadSeconds: number;
  readonly rssAfterLoadMb: number;
  /** Whether /proc/self/clear_refs reset the peak RSS after loading (so the load's transient buffers do not count). */
  readonly peakResetAfterLoad: boolean;
  /** Bytes of the training state the engine keeps, by buffer (computed from the layouts). */
  readonly stateBytes: Readonly<Record<string, number>>;
}

export interface ChildStepAnswer {
  readonly kind: 'step';
  readonly forwardBackwardSeconds: number;
  readonly optimSeconds: number;
  /** LoRA only: rebuilding the merged weights sampling reads (not part of the training step). */
  readonly mergeSeconds: number;
  readonly loss: number;
  readonly arrayBufferBytes: number;
}

export interface ChildReportAnswer {
  readonly kind: 'report';
  /** Peak RSS (VmHWM) since the reset after loading, or since the process started. */
  readonly peakRssMb: number;
}

export type ChildAnswer =
  | ChildInitAnswer
  | ChildStepAnswer
  | ChildReportAnswer
  | { readonly kind: 'error'; readonly message: string };

/** The same AdamW hyper-parameters for both modes (their values do not change the cost). */
const ADAM = {
  learningRate: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  gradClipNorm: 1,
};

const MB = 2 ** 20;

/** VmHWM of this process in MiB (Linux), else the resource-usage max RSS. */
function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Reset the kernel's peak-RSS mark (Linux ≥ 4.0: writing 5 to clear_refs). */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

class BenchEngine {
  private readonly model: Qwen3Model;
  private readonly data: { modelInput: number[]; targetTokens: number[] }[];
  readonly initAnswer: ChildInitAnswer;

  constructor(o: ChildInit) {
    const t0 = performance.now();
    let model: Qwen3Model;
    let name: string;
    if (o.modelDir !== null) {
      model = loadModelFolder(o.modelDir);
      name = o.modelDir;
    } else {
      if (!o.hfConfig) throw new Error('init needs modelDir or hfConfig');
      model = Qwen3Model.random(qwen3Config(o.hfConfig), 1);
      name = `random weights, ${String((o.hfConfig.architectures as string[] | undefined)?.[0])} shape`;
    }
    if (o.mode === 'lora') model.enableLora(loraConfig({ rank: o.rank }));
    const loadSeconds = (performance.now() - t0) / 1000;
    this.model = model;
    // The same tokens in both processes; their values do not change the cost.
    const rng = new Rng(7);
    const seq = Array.from({ length: o.tokens + 1 }, () => rng.int(model.config.vocabSize));
    this.data = [{ modelInput: seq.slice(0, -1), targetTokens: seq.slice(1) }];
    const n = model.table.totalSize;
    const lora = model.lora;
    let stateBytes: Record<string, number>;
    if (lora) {
      const a = lora.table.totalSize;
      let merged = 0;
      for (const e of lora.table.entries) merged += e.inDim * e.outDim;
      stateBytes = {
        baseWeights: 4 * n,
        adapters: 4 * a,
        gradients: 4 * a,
        optimizer: 8 * a,
        mergedSamplingCopy: 4 * merged,
      };
    } else {
      stateBytes = { baseWeights: 4 * n, gradients: 4 * n, optimizer: 8 * n };
    }
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const rssAfterLoadMb = process.memoryUsage().rss / MB;
    const peakResetAfterLoad = resetPeakRss();
    this.initAnswer = {
      kind: 'init',
      params: n,
      trainableParams: lora ? lora.table.totalSize : n,
      loraAlpha: lora ? lora.table.config.alpha : null,
      loraTargets: lora ? lora.table.config.targets : null,
      model: name,
      gemm: `${gemmBackend()} × ${gemmThreads()} threads`,
      loadSeconds,
      rssAfterLoadMb,
      peakResetAfterLoad,
      stateBytes,
    };
  }

  step(): ChildStepAnswer {
    const t0 = performance.now();
    const r = this.model.forwardBackward(this.data, 'cross_entropy');
    const t1 = performance.now();
    this.model.optimStep(ADAM);
    const t2 = performance.now();
    // A run samples after every update: LoRA then rebuilds its merged copy, so its memory counts.
    if (this.model.lora) void this.model.samplingViews;
    const t3 = performance.now();
    return {
      kind: 'step',
      forwardBackwardSeconds: (t1 - t0) / 1000,
      optimSeconds: (t2 - t1) / 1000,
      mergeSeconds: (t3 - t2) / 1000,
      loss: r.loss / this.data[0].modelInput.length,
      arrayBufferBytes: process.memoryUsage().arrayBuffers,
    };
  }
}

let engine: BenchEngine | null = null;

function handle(req: ChildRequest): ChildAnswer {
  switch (req.cmd) {
    case 'init':
      engine = new BenchEngine(req);
      return engine.initAnswer;
    case 'step':
      if (!engine) throw new Error('step before init');
      return engine.step();
    case 'report':
      return { kind: 'report', peakRssMb: peakRssMb() };
  }
}

process.on('message', (req: ChildRequest) => {
  let answer: ChildAnswer;
  try {
    answer = handle(req);
  } catch (err) {
    answer = { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
  process.send?.(answer);
});
