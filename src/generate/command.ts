/**
 * The whole `spell generate` run behind the CLI: build the chat engines, read and route the
 * corpus, choose the token counter, assemble the flow settings and the run identity, and run
 * `runGenerate`. The CLI only parses flags, shows progress and prints the summary.
 */
import { resolve } from 'node:path';
import { readCorpus, routeClusters, DEFAULT_ROUTING } from '../data/index.ts';
import { OpenAiChatEngine } from '../engine/openai/index.ts';
import { AlgorithmConfigSchema, type RewardCombine } from '../spell/config.ts';
import type { QaMetric } from '../spell/rules/index.ts';
import { TASKS, type Task } from '../spell/task.ts';
import { loadTokenizerFrom } from '../model/gguf/load-tokenizer.ts';
import { runGenerate, type GenerateProgress, type GenerateResult } from './generate.ts';
import type { KeepPolicy } from './keep-policy.ts';
import type { Prices } from './summary.ts';
import { endpointCounter, tokenizerCounter, type TokenCounter } from './token-counter.ts';

/** An OpenAI-compatible endpoint: base URL (with /v1), model and optional key. */
export interface EndpointOptions {
  readonly baseURL: string;
  readonly model: string;
  readonly apiKey?: string;
}

export interface GenerateCommandOptions {
  readonly endpoint: EndpointOptions;
  /** A separate endpoint for the verifier votes. */
  readonly judge?: EndpointOptions;
  readonly dataPaths: readonly string[];
  readonly out: string;
  readonly statePath: string;
  /** The tasks to play; undefined: every task the corpus routes clusters to. */
  readonly tasks?: readonly Task[];
  readonly questions: number;
  readonly maxAttempts: number;
  readonly groupSize: number;
  readonly votes: number;
  readonly concurrency: number;
  readonly retries: number;
  readonly timeoutMs: number;
  readonly keep: KeepPolicy;
  readonly docsPerQuestion: number;
  readonly maxPromptTokens: number;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  /** HF tokenizer folder for exact counts; otherwise the endpoint's /tokenize or an estimate. */
  readonly tokenizer?: string;
  readonly duplicateThreshold: number;
  readonly qaMetric: QaMetric;
  readonly qaAnswerInDocuments: boolean;
  readonly mcSwapLetter: boolean;
  /** How the rule score and the verifier majority make an answer's reward (as in training). */
  readonly rewardCombine: RewardCombine;
  readonly prices?: Prices;
  readonly resume: boolean;
  readonly signal?: AbortSignal;
  readonly onNotice: (message: string) => void;
  readonly onProgress?: (p: GenerateProgress) => void;
}

/** Run (or resume) `spell generate`; errors as `runGenerate`'s, plus corpus read errors. */
export async function runGenerateCommand(o: GenerateCommandOptions): Promise<GenerateResult> {
  const engineOptions = {
    maxRetries: o.retries,
    concurrency: o.concurrency,
    timeoutMs: o.timeoutMs,
  };
  const engine = new OpenAiChatEngine({ ...o.endpoint, ...engineOptions });
  const judge =
    o.judge !== undefined ? new OpenAiChatEngine({ ...o.judge, ...engineOptions }) : undefined;

  const dataPaths = o.dataPaths.map((p) => resolve(p));
  const corpus = await readCorpus(dataPaths, { skipBad: true });
  const skipped = Object.entries(corpus.skipped).filter(([, n]) => (n ?? 0) > 0);
  if (skipped.length > 0) {
    o.onNotice(`skipped bad corpus rows: ${skipped.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  const routed = routeClusters(corpus.clusters, DEFAULT_ROUTING, o.seed);
  if (routed.unrouted.length > 0) {
    o.onNotice(`${routed.unrouted.length} clusters match no task routing and are not used`);
  }
  const tasks = o.tasks ?? TASKS.filter((t) => routed.byTask[t].length > 0);
  if (o.tasks === undefined && tasks.length < TASKS.length && tasks.length > 0) {
    o.onNotice(`the corpus has clusters for ${tasks.join(', ')} only; playing those tasks`);
  }

  const counter: TokenCounter =
    o.tokenizer !== undefined
      ? tokenizerCounter(loadTokenizerFrom(o.tokenizer))
      : await endpointCounter(engine, (why) =>
          o.onNotice(
            `token counts are ESTIMATED (4 characters per token): ${why}; pass --tokenizer for exact budgets`,
          ),
        );

  return runGenerate({
    engine,
    ...(judge !== undefined ? { judge } : {}),
    counter,
    clusters: routed.byTask,
    tasks,
    identity: {
      model: o.endpoint.model,
      tasks,
      seed: o.seed,
      groupSize: o.groupSize,
      votes: o.votes,
      docsPerQuestion: o.docsPerQuestion,
      keep: o.keep.spec,
      data: dataPaths,
      ...(o.qaAnswerInDocuments ? { qaAnswerInDocuments: true as const } : {}),
      ...(o.mcSwapLetter ? { mcWrongLetter: 'swap' as const } : {}),
      ...(o.rewardCombine !== 'max' ? { rewardCombine: o.rewardCombine } : {}),
    },
    settings: {
      groupSize: o.groupSize,
      votes: o.votes,
      docsPerQuestion: o.docsPerQuestion,
      maxPromptTokens: o.maxPromptTokens,
      maxTokens: o.maxTokens,
      temperature: o.temperature,
      topP: o.topP,
      seed: o.seed,
      // Through the schema, as the train config's section is: the flags' values get the same
      // validation and every other knob the same default.
      algorithm: AlgorithmConfigSchema.parse({
        qaMetric: o.qaMetric,
        rewardCombine: o.rewardCombine,
        qaAnswerInDocuments: o.qaAnswerInDocuments,
        mcWrongLetter: o.mcSwapLetter ? 'swap' : 'format_error',
        verifier: { enable: o.votes > 0 },
      }),
    },
    keep: o.keep,
    duplicateThreshold: o.duplicateThreshold,
    questions: o.questions,
    maxAttempts: o.maxAttempts,
    concurrency: o.concurrency,
    out: o.out,
    statePath: o.statePath,
    summaryPath: `${o.out}.summary.json`,
    resume: o.resume,
    maxConsecutiveErrors: Math.max(10, 2 * o.concurrency),
    ...(o.prices !== undefined ? { prices: o.prices } : {}),
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
    onNotice: o.onNotice,
    ...(o.onProgress !== undefined ? { onProgress: o.onProgress } : {}),
  });
}
