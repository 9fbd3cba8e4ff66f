/**
 * The `spell train` configuration: one schema, validated once at the edge (unknown keys rejected,
 * cross-field rules checked), then passed down as a frozen object. Every default lives here, with a
 * one-line comment. Two presets: `paper` (the published 7B run) and `local` (the embedded engine on
 * 2 CPU cores). Precedence: preset < config file < command-line overrides.
 */
import { z } from 'zod';
import { ConfigurationError } from '../core/errors.ts';
import { DEFAULT_TEXT_BOUNDS } from '../data/read/text.ts';
import { AlgorithmConfigSchema, algorithmConfigProblems } from '../spell/config.ts';

const positiveInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

export const TrainConfigSchema = z
  .object({
    /** Run name; the run directory is `<runsDir>/<name>` unless `runDir` is given. */
    name: z.string().min(1).default('spell'),
    /** Master seed: every RNG stream (documents, tasks, bad cases, verifier groups, engine) derives from it. */
    seed: z.number().int().default(42),
    /** Training steps (policy updates) to run in total, counting steps already done when resuming. */
    steps: positiveInt.default(20),
    /** Wall-clock budget of this invocation in minutes (0 = none): stop after the step that crosses it, with a checkpoint. */
    maxMinutes: z.number().min(0).default(0),
    /** Write engine + controller state every K steps (and always at the last step). */
    checkpointEvery: positiveInt.default(10),
    /**
     * selfplay: SPELL (questioner, responder, verifier on unlabeled clusters). rlvr: the static-RLVR
     * control — responder only, on data.labeledPaths, rewarded by the rule checks.
     */
    mode: z.enum(['selfplay', 'rlvr']).default('selfplay'),

    engine: z
      .object({
        /** local: the embedded TypeScript engine; tinker: a Tinker-protocol server (SkyRL tx, hosted, spell serve). */
        kind: z.enum(['local', 'tinker']).default('local'),
        /** local: a model folder (empty = the bundled default); tinker: the base model name. */
        model: z.string().default(''),
        /** tinker: the server's base URL, e.g. http://127.0.0.1:8000. */
        baseUrl: z.string().default(''),
        /** tinker: API key (falls back to TINKER_API_KEY in the CLI). */
        apiKey: z.string().default(''),
        /**
         * LoRA rank; 0 = full fine-tuning. Default: 0 for local (full weights), 32 for tinker (the
         * SDK's default; 0 sends no lora_config, which spell serve takes as full fine-tuning).
         */
        loraRank: nonNegInt.optional(),
        /** local: LoRA alpha (scale alpha/rank; Tinker and SkyRL tx fix it at 32). */
        loraAlpha: z.number().positive().default(32),
        /** local: the linear layers that get adapters (default: every attention and MLP projection). */
        loraTargets: z
          .array(
            z.enum(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']),
          )
          .default(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']),
        /** A local HF tokenizer folder; empty = the model folder (local) or the server's tokenizer hint. */
        tokenizer: z.string().default(''),
        /** How the engine sums the loss; `auto` asks the engine (hosted Tinker/local: sum; SkyRL: per-sequence mean). */
        lossAggregation: z.enum(['auto', 'sum', 'sequence-token-mean']).default('auto'),
        /** tinker: forward/backward encoding; json (SDK <= 0.24, SkyRL tx 0.3) or protobuf (SDK >= 0.25). */
        wire: z.enum(['json', 'protobuf']).default('json'),
        /** Parallel requests kept in flight per role (remote engines). */
        concurrency: positiveInt.default(64),
      })
      .strict()
      .prefault({}),

    data: z
      .object({
        /** Corpus files or folders (JSONL, parquet, text folders); empty = the bundled corpus. */
        paths: z.array(z.string()).default([]),
        /** How text folders are cut: documents and clusters of at most this many characters. */
        text: z
          .object({
            documentChars: z.number().int().min(100).default(DEFAULT_TEXT_BOUNDS.documentChars),
            clusterChars: z.number().int().min(100).default(DEFAULT_TEXT_BOUNDS.clusterChars),
          })
          .strict()
          .prefault({}),
        /** Fixed per-task weights of the domain sampler (the reference uses equal thirds). */
        taskWeights: z
          .object({
            docmath: z.number().min(0).default(1),
            qa: z.number().min(0).default(1),
            mc: z.number().min(0).default(1),
          })
          .strict()
          .prefault({}),
        /** New documents per questioner draw (m; the paper uses 5). */
        docsPerQuestion: positiveInt.default(5),
        /** Skip (and count) corrupt corpus rows instead of stopping. */
        skipBad: z.boolean().default(false),
        /** mode rlvr: labeled questions (JSONL: id, task, documents, question, options, answer). */
        labeledPaths: z.array(z.string()).default([]),
      })
      .strict()
      .prefault({}),

    rollout: z
      .object({
        /** Questioner prompts per gen batch (the paper: 480, i.e. 160 per task). */
        genBatchSize: positiveInt.default(480),
        /** Responder groups per update (train_batch_size; the paper: 128). */
        responderGroups: positiveInt.default(128),
        /** Responder samples per question (G). */
        groupSize: positiveInt.default(8),
        /** Verifier votes per judged answer. */
        verifierVotes: positiveInt.default(8),
        /** Gen batches per step before giving up on filling responderGroups (the reference stops; we train on what we have). */
        maxGenBatches: positiveInt.default(10),
        /** Prompt cap in tokens after the chat template (over-long responder prompts are dropped and counted). */
        maxPromptTokens: positiveInt.default(18000),
        /** Generation cap per sample, every role. */
        maxResponseTokens: positiveInt.default(4096),
        temperature: z.number().min(0).default(0.7),
        topP: z.number().gt(0).max(1).default(0.95),
        /** -1 disables top-k. */
        topK: z.number().int().min(-1).default(-1),
        /** Chat-template flag for hybrid thinking models (Qwen3); false renders the no-think prompt. */
        enableThinking: z.boolean().default(false),
      })
      .strict()
      .prefault({}),

    /** The algorithm's options: spell/config.ts defines them, with their defaults, once. */
    algorithm: AlgorithmConfigSchema.prefault({}),

    optim: z
      .object({
        /** Constant learning rate (no warm-up), as in the reference. */
        learningRate: z.number().positive().default(2e-6),
        beta1: z.number().min(0).lt(1).default(0.9),
        beta2: z.number().min(0).lt(1).default(0.999),
        eps: z.number().positive().default(1e-8),
        weightDecay: z.number().min(0).default(0.01),
        /** Global grad-norm clip; 0 disables. */
        gradClipNorm: z.number().min(0).default(1.0),
        /** PPO clip range: ratio in [1 - clipLow, 1 + clipHigh]. */
        clipLow: z.number().min(0).lt(1).default(0.2),
        clipHigh: z.number().min(0).default(0.2),
        /** token-mean: advantages scaled by 1/(trained tokens) on summing engines; sum: raw sum. */
        lossAggregation: z.enum(['token-mean', 'sum']).default('token-mean'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type TrainConfig = Readonly<z.infer<typeof TrainConfigSchema>>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

/** Plain nested object, as read from YAML or built from overrides. */
export type ConfigTree = { [key: string]: unknown };

export const PRESETS: Readonly<Record<'paper' | 'local', ConfigTree>> = {
  // The published Qwen2.5-7B-Instruct script (spell-algorithm.md §12); schema defaults already match it.
  paper: {
    steps: 70,
    algorithm: { worldSize: 8 },
  },
  // The embedded engine on 2 CPU cores: well under a minute per step with the bundled model.
  // 4 verifier votes so the 0.51–0.99 agreement band is reachable (with 2 votes agreement is
  // 0, 0.5 or 1 and the verifier would never be trained); update ratio 0.5 gives
  // int(2 groups × 4 × 0.5 / 4) = 1 verifier group per update.
  local: {
    steps: 20,
    checkpointEvery: 5,
    data: { docsPerQuestion: 2 },
    rollout: {
      genBatchSize: 6,
      responderGroups: 2,
      groupSize: 4,
      verifierVotes: 4,
      maxGenBatches: 2,
      maxPromptTokens: 2048,
      maxResponseTokens: 96,
    },
    // Against collusion between a weak questioner and responder: rule-only pay, references from
    // the documents, the repeat guard, 4 bad cases per good one. Measured runs and why:
    // docs/experiments/miniature.md, "Why the local preset's algorithm settings".
    algorithm: {
      verifier: { updateRatio: 0.5 },
      rewardCombine: 'rule',
      qaAnswerInDocuments: true,
      repeatWindow: 64,
      badCaseRatio: 4,
    },
    optim: { learningRate: 1e-4, beta2: 0.99 },
  },
};

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
export function mergeTrees(base: ConfigTree, over: ConfigTree): ConfigTree {
  const out: ConfigTree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isTree(value) && isTree(prev) ? mergeTrees(prev, value) : value;
  }
  return out;
}

function isTree(v: unknown): v is ConfigTree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turn `key.path=value` overrides into a tree. Values are parsed as JSON when they parse
 * (numbers, booleans, arrays), else kept as strings.
 * @throws ConfigurationError when an override has no `=` or an empty key.
 */
export function parseOverrides(items: readonly string[]): ConfigTree {
  let tree: ConfigTree = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new ConfigurationError(
        `override "${item}" must look like key.path=value (e.g. rollout.groupSize=4)`,
      );
    }
    const path = item.slice(0, eq).split('.');
    if (path.some((p) => p.length === 0)) {
      throw new ConfigurationError(`override "${item}" has an empty key segment`);
    }
    const raw = item.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    let leaf: ConfigTree = { [path[path.length - 1]]: value };
    for (let i = path.length - 2; i >= 0; i--) leaf = { [path[i]]: leaf };
    tree = mergeTrees(tree, leaf);
  }
  return tree;
}

/**
 * Validate a merged tree into a frozen TrainConfig.
 * @throws ConfigurationError listing every problem with its key path.
 */
export function resolveTrainConfig(tree: ConfigTree, source = 'config'): TrainConfig {
  const parsed = TrainConfigSchema.safeParse(tree);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      return `  ${key}: ${issue.message}`;
    });
    throw new ConfigurationError(`invalid ${source}:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  checkCrossFieldRules(cfg);
  return deepFreeze(cfg);
}

function checkCrossFieldRules(cfg: z.infer<typeof TrainConfigSchema>): void {
  const problems: string[] = [];
  for (const p of algorithmConfigProblems(cfg.algorithm)) problems.push(`algorithm.${p}`);
  if (cfg.engine.kind === 'tinker' && cfg.engine.baseUrl === '') {
    problems.push(
      'engine.baseUrl is required when engine.kind is tinker (e.g. --base-url http://127.0.0.1:8000)',
    );
  }
  if (cfg.engine.kind === 'tinker' && cfg.engine.model === '') {
    problems.push('engine.model (the base model name) is required when engine.kind is tinker');
  }
  if (
    cfg.algorithm.logprobTemperature === 'raw' &&
    cfg.algorithm.oldLogprobs === 'sampler' &&
    cfg.rollout.temperature !== 1
  ) {
    problems.push(
      `algorithm.logprobTemperature=raw with algorithm.oldLogprobs=sampler compares the sampler's log-probs at temperature ${cfg.rollout.temperature} with the learner's at 1; use oldLogprobs=recompute`,
    );
  }
  if (cfg.mode === 'rlvr' && cfg.data.labeledPaths.length === 0) {
    problems.push(
      'mode rlvr needs data.labeledPaths (labeled questions, e.g. from `spell data labeled`)',
    );
  }
  if (cfg.data.text.documentChars > cfg.data.text.clusterChars) {
    problems.push(
      `data.text.documentChars (${cfg.data.text.documentChars}) must not exceed data.text.clusterChars (${cfg.data.text.clusterChars})`,
    );
  }
  const w = cfg.data.taskWeights;
  if (w.docmath + w.qa + w.mc <= 0)
    problems.push('data.taskWeights must have at least one positive weight');
  if (cfg.rollout.genBatchSize < 1) problems.push('rollout.genBatchSize must be at least 1');
  if (cfg.rollout.groupSize < 2) {
    problems.push(
      `rollout.groupSize is ${cfg.rollout.groupSize}; GRPO needs at least 2 responder samples per question`,
    );
  }
  if (problems.length > 0)
    throw new ConfigurationError(`invalid config:\n  ${problems.join('\n  ')}`);
}

function deepFreeze<T>(obj: T): T {
  if (typeof obj === 'object' && obj !== null) {
    for (const v of Object.values(obj)) deepFreeze(v);
    Object.freeze(obj);
  }
  return obj;
}
