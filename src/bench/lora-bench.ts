/**
 * `spell bench lora`: a LoRA training step (forwardBackward + AdamW) against a full fine-tuning
 * step of the same model on the same tokens. Each mode runs in its own child process
 * (lora-bench-child.ts), so each has its own peak RSS; the parent alternates single steps between
 * them (full, LoRA, LoRA, full, …) so machine load that comes and goes falls on both alike. The
 * report gives tokens/s and seconds per step (median of the timed steps, after one untimed warm-up
 * step each), peak RSS and ArrayBuffer bytes per mode, the training state each keeps by buffer,
 * the optimizer state bytes, parameter counts, and full/LoRA ratios. Default model: SmolLM2-135M's
 * shape with random weights (weights do not change the cost); `modelDir` loads a real folder.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type {
  BenchMode,
  ChildAnswer,
  ChildInitAnswer,
  ChildRequest,
  ChildStepAnswer,
} from './lora-bench-child.ts';

/** SmolLM2-135M-Instruct's config.json (Llama family). */
export const SMOLLM2_135M: Readonly<Record<string, unknown>> = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 576,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  head_dim: 64,
  intermediate_size: 1536,
  vocab_size: 49152,
  rope_theta: 100000,
  rms_norm_eps: 1e-5,
  max_position_embeddings: 8192,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
};

export interface LoraBenchOptions {
  /** An HF model folder; null: random weights of `hfConfig`'s shape. */
  readonly modelDir: string | null;
  readonly hfConfig: Readonly<Record<string, unknown>>;
  readonly tokens: number;
  readonly steps: number;
  readonly rank: number;
  /** Called after each step (progress on stderr). */
  readonly onStep?: (mode: BenchMode, step: ChildStepAnswer) => void;
}

export interface LoraBenchMode {
  readonly trainableParams: number;
  /** Median over the timed steps of forwardBackward + optimStep. */
  readonly stepSeconds: number;
  readonly tokensPerSec: number;
  readonly forwardBackwardSeconds: number;
  readonly optimSeconds: number;
  /** The warm-up step (allocates gradients, moments and the workspace), not in the median. */
  readonly firstStepSeconds: number;
  readonly stepSecondsAll: readonly number[];
  /** LoRA: median time to rebuild the merged sampling weights after a step (not in stepSeconds). */
  readonly mergeSeconds: number | null;
  /** Peak RSS of this mode's process during the steps (MiB; see peakResetAfterLoad). */
  readonly peakRssMb: number;
  readonly rssAfterLoadMb: number;
  readonly peakResetAfterLoad: boolean;
  /** process.memoryUsage().arrayBuffers after the last step: weights, state and workspaces. */
  readonly arrayBufferBytes: number;
  /** Training state by buffer, computed from the layouts (F32). */
  readonly stateBytes: Readonly<Record<string, number>>;
  /** Adam's two moments of the trainable parameters. */
  readonly optimizerBytes: number;
  readonly lossFirst: number;
  readonly lossLast: number;
}

export interface LoraBenchReport {
  readonly bench: 'lora';
  readonly model: string;
  readonly gemm: string;
  readonly params: number;
  readonly tokens: number;
  readonly steps: number;
  readonly rank: number;
  readonly loraAlpha: number;
  readonly loraTargets: readonly string[];
  readonly adapterParams: number;
  readonly schedule: string;
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly full: LoraBenchMode;
  readonly lora: LoraBenchMode;
  readonly ratios: {
    /** LoRA tokens/s ÷ full tokens/s (> 1: LoRA is faster). */
    readonly speedup: number;
    readonly forwardBackward: number;
    readonly optim: number;
    /** full ÷ LoRA. */
    readonly peakRss: number;
    readonly arrayBuffers: number;
    readonly optimizerState: number;
    readonly trainableParams: number;
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** A forked engine process answering one request at a time. */
class ChildEngine {
  private readonly child: ChildProcess;
  private waiting: ((a: ChildAnswer) => void) | null = null;
  private exitMessage: string | null = null;

  constructor() {
    const require = createRequire(import.meta.url);
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    this.child = fork(fileURLToPath(new URL('./lora-bench-child.ts', import.meta.url)), [], {
      execArgv: ['--import', tsx, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (a: ChildAnswer) => {
      const w = this.waiting;
      this.waiting = null;
      w?.(a);
    });
    this.child.on('exit', (code, signal) => {
      this.exitMessage = `bench engine process exited (code ${code}, signal ${signal})`;
      const w = this.waiting;
      this.waiting = null;
      w?.({ kind: 'error', message: this.exitMessage });
    });
  }

  async request<K extends ChildAnswer['kind']>(
    req: ChildRequest,
    kind: K,
  ): Promise<Extract<ChildAnswer, { kind: K }>> {
    const a = await new Promise<ChildAnswer>((resolve) => {
      if (this.exitMessage) {
        resolve({ kind: 'error', message: this.exitMessage });
        return;
      }
      this.waiting = resolve;
      this.child.send(req);
    });
    if (a.kind === 'error') throw new Error(`bench lora: ${a.message}`);
    if (a.kind !== kind) throw new Error(`bench lora: expected a ${kind} answer, got ${a.kind}`);
    return a as Extract<ChildAnswer, { kind: K }>;
  }

  close(): void {
    if (this.exitMessage === null) this.child.kill();
  }
}

function summarise(
  init: ChildInitAnswer,
  steps: readonly ChildStepAnswer[],
  peakRssMb: number,
  tokens: number,
): LoraBenchMode {
  const timed = steps.slice(1);
  const total = timed.map((s) => s.forwardBackwardSeconds + s.optimSeconds);
  const stepSeconds = median(total);
  const first = steps[0];
  const last = steps[steps.length - 1];
  return {
    trainableParams: init.trainableParams,
    stepSeconds,
    tokensPerSec: tokens / stepSeconds,
    forwardBackwardSeconds: median(timed.map((s) => s.forwardBackwardSeconds)),
    optimSeconds: median(timed.map((s) => s.optimSeconds)),
    firstStepSeconds: first.forwardBackwardSeconds + first.optimSeconds,
    stepSecondsAll: total,
    mergeSeconds: init.loraAlpha === null ? null : median(timed.map((s) => s.mergeSeconds)),
    peakRssMb,
    rssAfterLoadMb: init.rssAfterLoadMb,
    peakResetAfterLoad: init.peakResetAfterLoad,
    arrayBufferBytes: last.arrayBufferBytes,
    stateBytes: init.stateBytes,
    optimizerBytes: init.stateBytes.optimizer,
    lossFirst: first.loss,
    lossLast: last.loss,
  };
}

/**
 * Run the comparison: two processes (full: weights, gradients and moments, ≈ 2.2 GB for
 * SmolLM2-135M; LoRA: ≈ 0.6 GB plus activations), `steps + 1` steps each, alternated.
 */
export async function runLoraBench(o: LoraBenchOptions): Promise<LoraBenchReport> {
  const loadStart = loadavg();
  const engines: Record<BenchMode, ChildEngine> = {
    full: new ChildEngine(),
    lora: new ChildEngine(),
  };
  try {
    const init = {} as Record<BenchMode, ChildInitAnswer>;
    for (const mode of ['full', 'lora'] as const) {
      init[mode] = await engines[mode].request(
        {
          cmd: 'init',
          mode,
          modelDir: o.modelDir,
          hfConfig: o.modelDir === null ? o.hfConfig : null,
          tokens: o.tokens,
          rank: o.rank,
        },
        'init',
      );
    }
    const steps: Record<BenchMode, ChildStepAnswer[]> = { full: [], lora: [] };
    // ABBA order: whichever mode goes first in a round goes second in the next.
    for (let round = 0; round <= o.steps; round++) {
      const order: BenchMode[] = round % 2 === 0 ? ['full', 'lora'] : ['lora', 'full'];
      for (const mode of order) {
        const s = await engines[mode].request({ cmd: 'step' }, 'step');
        steps[mode].push(s);
        o.onStep?.(mode, s);
      }
    }
    const peak = {} as Record<BenchMode, number>;
    for (const mode of ['full', 'lora'] as const) {
      peak[mode] = (await engines[mode].request({ cmd: 'report' }, 'report')).peakRssMb;
    }
    const full = summarise(init.full, steps.full, peak.full, o.tokens);
    const lora = summarise(init.lora, steps.lora, peak.lora, o.tokens);
    return {
      bench: 'lora',
      model: init.full.model,
      gemm: init.full.gemm,
      params: init.full.params,
      tokens: o.tokens,
      steps: o.steps,
      rank: o.rank,
      loraAlpha: init.lora.loraAlpha ?? 0,
      loraTargets: init.lora.loraTargets ?? [],
      adapterParams: init.lora.trainableParams,
      schedule:
        'one process per mode; one untimed warm-up step each, then single steps alternated full/LoRA in ABBA order; medians over the timed steps',
      loadAverage: { start: loadStart, end: loadavg() },
      full,
      lora,
      ratios: {
        speedup: lora.tokensPerSec / full.tokensPerSec,
        forwardBackward: full.forwardBackwardSeconds / lora.forwardBackwardSeconds,
        optim: full.optimSeconds / lora.optimSeconds,
        peakRss: full.peakRssMb / lora.peakRssMb,
        arrayBuffers: full.arrayBufferBytes / lora.arrayBufferBytes,
        optimizerState: full.optimizerBytes / lora.optimizerBytes,
        trainableParams: full.trainableParams / lora.trainableParams,
      },
    };
  } finally {
    engines.full.close();
    engines.lora.close();
  }
}
