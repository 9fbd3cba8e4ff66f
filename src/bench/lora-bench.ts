/**
 * `spell bench lora`: one LoRA training step (forwardBackward + optimStep) against one full
 * fine-tuning step of the same model on the same tokens, measured in one run with the steps
 * interleaved (so both see the same machine load): seconds per step, the ratio, the bytes of
 * training state each keeps (gradients + Adam moments; LoRA also its adapters and the merged
 * copy sampling reads), and the process RSS after each engine's first step. Default model:
 * SmolLM2-135M's shape with random weights (weights do not change the cost).
 */
import { qwen3Config } from '../model/config.ts';
import type { Qwen3Config } from '../model/config.ts';
import { loraConfig } from '../model/lora.ts';
import { Qwen3Model } from '../model/model.ts';
import { Rng } from '../core/rng.ts';

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
  readonly hfConfig: Readonly<Record<string, unknown>>;
  readonly tokens: number;
  readonly steps: number;
  readonly rank: number;
}

export interface LoraBenchReport {
  readonly model: string;
  readonly params: number;
  readonly tokens: number;
  readonly steps: number;
  readonly rank: number;
  readonly adapterParams: number;
  readonly full: {
    readonly stepSeconds: number;
    readonly stateBytes: number;
    readonly optimizerBytes: number;
    readonly rssAfterFirstStepMb: number;
  };
  readonly lora: {
    readonly stepSeconds: number;
    readonly stateBytes: number;
    readonly optimizerBytes: number;
    readonly rssAfterFirstStepMb: number;
  };
  /** full seconds per step / LoRA seconds per step (> 1: LoRA is faster). */
  readonly speedup: number;
  readonly optimizerStateRatio: number;
}

const ADAM = {
  learningRate: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  gradClipNorm: 1,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Run the comparison (allocates two models; SmolLM2 shape needs about 3 GB). */
export function runLoraBench(o: LoraBenchOptions): LoraBenchReport {
  const config: Qwen3Config = qwen3Config(o.hfConfig);
  const rng = new Rng(7);
  const seq = Array.from({ length: o.tokens + 1 }, () => rng.int(config.vocabSize));
  const data = [{ modelInput: seq.slice(0, -1), targetTokens: seq.slice(1) }];
  const mb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);
  const full = Qwen3Model.random(config, 1);
  const step = (m: Qwen3Model): number => {
    const t0 = performance.now();
    m.forwardBackward(data, 'cross_entropy');
    m.optimStep(ADAM);
    return (performance.now() - t0) / 1000;
  };
  const fullTimes = [step(full)];
  const fullRss = mb();
  const lora = new Qwen3Model(config, full.params.slice());
  lora.enableLora(loraConfig({ rank: o.rank }));
  const loraTimes = [step(lora)];
  void lora.samplingViews; // the merged copy sampling reads is part of LoRA's footprint
  const loraRss = mb();
  for (let i = 1; i < o.steps; i++) {
    fullTimes.push(step(full));
    loraTimes.push(step(lora));
  }
  const n = full.table.totalSize;
  const a = lora.lora?.table.totalSize ?? 0;
  let mergedFloats = 0;
  for (const e of lora.lora?.table.entries ?? []) mergedFloats += e.inDim * e.outDim;
  const fullStep = median(fullTimes);
  const loraStep = median(loraTimes);
  return {
    model: String((o.hfConfig.architectures as string[] | undefined)?.[0] ?? config.family),
    params: n,
    tokens: o.tokens,
    steps: o.steps,
    rank: o.rank,
    adapterParams: a,
    full: {
      stepSeconds: fullStep,
      stateBytes: 3 * n * 4,
      optimizerBytes: 2 * n * 4,
      rssAfterFirstStepMb: fullRss,
    },
    lora: {
      stepSeconds: loraStep,
      stateBytes: (4 * a + mergedFloats) * 4,
      optimizerBytes: 2 * a * 4,
      rssAfterFirstStepMb: loraRss,
    },
    speedup: fullStep / loraStep,
    optimizerStateRatio: (2 * n) / (2 * a),
  };
}
