/**
 * The model part of `spell bench engine`: tokens per second of the embedded Qwen3 engine for a
 * fixed small random model — forward (logprobs of every position), training (forward + backward
 * + AdamW) and sampling with the KV cache — per gemm backend. Runs in the calling thread so the
 * figures are the kernels' own, without worker messaging.
 */
import type { Datum, SampleRequest } from '../engine/types.ts';
import { qwen3Config } from '../model/config.ts';
import type { Qwen3Config } from '../model/config.ts';
import { gemmBackend, gemmThreads, setGemmBackend, setGemmThreads } from '../model/kernels/gemm.ts';
import type { GemmBackend } from '../model/kernels/gemm.ts';
import { Qwen3Model } from '../model/model.ts';
import { Rng } from '../core/index.ts';
import { sig, timeRuns } from './timing.ts';

/** The fixed bench model: a small Qwen3 (about 4.2 M parameters, tied embeddings), HF config keys. */
export const BENCH_MODEL_CONFIG: Readonly<Record<string, number | boolean>> = {
  hidden_size: 256,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 64,
  intermediate_size: 768,
  vocab_size: 4096,
  max_position_embeddings: 1024,
  tie_word_embeddings: true,
};

/** Shape of the workload timed for each backend. */
export interface ModelWorkload {
  /** Training/forward batch: `batch` sequences of `seqLen` tokens. */
  readonly batch: number;
  readonly seqLen: number;
  /** Sampling: `samples` continuations of `maxTokens` tokens after a `promptLen`-token prompt. */
  readonly samples: number;
  readonly promptLen: number;
  readonly maxTokens: number;
}

export const DEFAULT_WORKLOAD: ModelWorkload = {
  batch: 4,
  seqLen: 128,
  samples: 4,
  promptLen: 32,
  maxTokens: 64,
};

export interface ModelResult {
  readonly backend: GemmBackend;
  readonly threads: number;
  readonly forwardTokensPerSec: number;
  readonly trainTokensPerSec: number;
  readonly sampleTokensPerSec: number;
  /** Loss after the timed training steps (finite = the steps really ran). */
  readonly lossAfter: number;
}

export interface ModelBenchReport {
  readonly config: Readonly<Record<string, number | boolean>>;
  readonly parameters: number;
  readonly workload: ModelWorkload;
  readonly results: ModelResult[];
}

function makeBatch(c: Qwen3Config, w: ModelWorkload, rng: Rng): Datum[] {
  const out: Datum[] = [];
  for (let b = 0; b < w.batch; b++) {
    const seq = Array.from({ length: w.seqLen + 1 }, () => rng.int(c.vocabSize));
    out.push({
      modelInput: seq.slice(0, -1),
      targetTokens: seq.slice(1),
      weights: new Array<number>(w.seqLen).fill(1),
    });
  }
  return out;
}

/** Time forward, training and sampling for each backend (thread count fixed per backend). */
export function runModelBench(
  backends: readonly GemmBackend[],
  nativeThreads: number,
  budgetMs: number,
  workload: ModelWorkload = DEFAULT_WORKLOAD,
): ModelBenchReport {
  const config = qwen3Config(BENCH_MODEL_CONFIG);
  const rng = new Rng(1234);
  const data = makeBatch(config, workload, rng);
  const prompt = Array.from({ length: workload.promptLen }, () => rng.int(config.vocabSize));
  const tokens = workload.batch * workload.seqLen;
  const adam = {
    learningRate: 1e-3,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0,
    gradClipNorm: 1,
  };
  const savedBackend = gemmBackend();
  const savedThreads = gemmThreads();
  const results: ModelResult[] = [];
  let parameters = 0;
  try {
    for (const backend of backends) {
      setGemmBackend(backend);
      const threads = backend === 'js' ? 1 : nativeThreads;
      setGemmThreads(threads);
      const model = Qwen3Model.random(config, 7);
      parameters = model.params.length;
      const fwd = timeRuns(() => void model.forward(data, 'cross_entropy'), budgetMs, 1, 50);
      let lossAfter = NaN;
      const train = timeRuns(
        () => {
          lossAfter = model.forwardBackward(data, 'cross_entropy').loss / tokens;
          model.optimStep(adam);
        },
        budgetMs,
        1,
        50,
      );
      let generated = 0;
      const req: SampleRequest = {
        prompt,
        numSamples: workload.samples,
        params: { maxTokens: workload.maxTokens, temperature: 1, topP: 1, topK: -1, seed: 1 },
      };
      const sample = timeRuns(
        () => {
          generated = model.sample(req).sequences.reduce((n, s) => n + s.tokens.length, 0);
        },
        budgetMs,
        1,
        50,
      );
      results.push({
        backend,
        threads,
        forwardTokensPerSec: sig(tokens / fwd.best),
        trainTokensPerSec: sig(tokens / train.best),
        sampleTokensPerSec: sig(generated / sample.best),
        lossAfter: sig(lossAfter, 4),
      });
    }
  } finally {
    setGemmBackend(savedBackend);
    setGemmThreads(savedThreads);
  }
  return { config: BENCH_MODEL_CONFIG, parameters, workload, results };
}
