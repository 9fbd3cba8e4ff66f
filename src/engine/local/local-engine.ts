/**
 * The `local` PolicyEngine adapter: the embedded Qwen3 engine (src/model/) running in a worker
 * thread behind a ModelRunner. Losses use hosted Tinker semantics (sums over tokens), samples
 * always read the latest weights (refreshSampler only bumps a version counter), and `save(name)`
 * writes a checkpoint folder — a complete HF model folder plus optimizer state — whose path is
 * the reference `load` accepts.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigurationError, EngineError } from '../../core/errors.ts';
import { ModelRunner } from '../../model/index.ts';
import type { GemmBackend, KvLedger, LoraOptions } from '../../model/index.ts';
import type {
  AdamParams,
  Datum,
  EngineInfo,
  ForwardBackwardResult,
  LossConfig,
  LossName,
  OptimResult,
  PolicyEngine,
  SampleRequest,
  SampleResult,
} from '../types.ts';

/** How to open a local engine. */
export interface LocalEngineOptions {
  /** An HF-format Qwen3 model folder (config.json + model.safetensors [+ tokenizer files]). */
  readonly modelDir: string;
  /** Where `save(name)` writes `<checkpointDir>/<name>/`. Default: `<modelDir>-checkpoints`. */
  readonly checkpointDir?: string;
  readonly gemmBackend?: GemmBackend;
  readonly gemmThreads?: number;
  /**
   * Train LoRA adapters (rank, alpha, targets, seed; see model/lora.ts) on the frozen folder
   * weights instead of the full weights; checkpoints are then adapter-only peft folders.
   */
  readonly lora?: LoraOptions;
  /** Account sampling memory in this ledger (and stay within its budget); default: an own one. */
  readonly ledger?: KvLedger;
}

const CHECKPOINT_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** The embedded engine as a PolicyEngine. */
export class LocalEngine implements PolicyEngine {
  private samplerVersion = 0;

  private constructor(
    private readonly runner: ModelRunner,
    private readonly modelDir: string,
    private readonly checkpointDir: string,
  ) {}

  /**
   * Start the worker and load the model folder.
   * @throws CheckpointError / ConfigurationError from the folder
   */
  static async open(opts: LocalEngineOptions): Promise<LocalEngine> {
    const modelDir = resolve(opts.modelDir);
    const checkpointDir = resolve(
      opts.checkpointDir ?? join(dirname(modelDir), `${basename(modelDir)}-checkpoints`),
    );
    const runner = await ModelRunner.start({
      source: { kind: 'folder', dir: modelDir },
      ...(opts.gemmBackend ? { gemmBackend: opts.gemmBackend } : {}),
      ...(opts.gemmThreads ? { gemmThreads: opts.gemmThreads } : {}),
      ...(opts.lora ? { lora: opts.lora } : {}),
      ...(opts.ledger ? { ledger: opts.ledger } : {}),
    });
    return new LocalEngine(runner, modelDir, checkpointDir);
  }

  info(): Promise<EngineInfo> {
    const cfg = this.runner.modelInfo.hfConfig;
    const hasTokenizer = existsSync(join(this.modelDir, 'tokenizer.json'));
    return Promise.resolve({
      modelName: basename(this.modelDir),
      ...(hasTokenizer ? { tokenizerDir: this.modelDir } : {}),
      maxContext: Number(cfg.max_position_embeddings),
      vocabSize: Number(cfg.vocab_size),
      lossAggregation: 'sum',
      lossTemperature: true,
    });
  }

  /** An abort of `signal` cancels the request in the worker, even mid-decode. */
  sample(req: SampleRequest, signal?: AbortSignal): Promise<SampleResult> {
    return this.runner.sample(req, signal);
  }

  /** KV memory, tokens and cancels of this engine's sampling (shared with engines given the same ledger). */
  get ledger(): KvLedger {
    return this.runner.ledger;
  }

  forward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): Promise<ForwardBackwardResult> {
    return this.runner.forward(data, loss, config);
  }

  forwardBackward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): Promise<ForwardBackwardResult> {
    return this.runner.forwardBackward(data, loss, config);
  }

  async optimStep(adam: AdamParams): Promise<OptimResult> {
    return { metrics: await this.runner.optimStep(adam) };
  }

  /** The sampler shares the trainer's weights, so this only records a new sampler version. */
  refreshSampler(): Promise<void> {
    this.samplerVersion++;
    return Promise.resolve();
  }

  /**
   * Save weights + optimizer state as `<checkpointDir>/<name>/` (atomic; replaces an existing
   * checkpoint of that name). Tokenizer files of the model folder are copied along.
   * @returns the checkpoint folder's absolute path (what `load` accepts)
   * @throws ConfigurationError on a name outside [A-Za-z0-9_-]
   */
  async save(name: string): Promise<string> {
    if (!CHECKPOINT_NAME.test(name)) {
      throw new ConfigurationError(
        `checkpoint name "${name}" is invalid: use 1–255 characters from A–Z, a–z, 0–9, _ and -`,
      );
    }
    const dir = join(this.checkpointDir, name);
    await this.runner.save(
      dir,
      { engine: 'local', name, samplerVersion: this.samplerVersion, sourceModel: this.modelDir },
      this.modelDir,
    );
    return dir;
  }

  /**
   * Load a checkpoint folder returned by `save` (or any compatible model folder: weights only,
   * fresh optimizer).
   * @throws CheckpointError when the folder does not match the running model
   */
  async load(ref: string): Promise<void> {
    if (!existsSync(ref)) throw new EngineError(`checkpoint ${ref} does not exist`);
    const adapter = await this.runner.load(resolve(ref));
    const v = adapter.samplerVersion;
    if (typeof v === 'number') this.samplerVersion = v;
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
