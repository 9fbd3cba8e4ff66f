/**
 * The whole `spell eval` run behind the CLI: check the output folder (fresh, or `--resume` with
 * the same settings), load the questions, set up the tokenizer source and the engines, run, compact
 * the results file, and write `summary.json`, `summary.md` and `summary.html`. The CLI only parses
 * flags, shows progress and prints the markdown.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';
import { ConfigurationError, EvalError } from '../core/errors.ts';
import { OpenAiChatEngine } from '../engine/openai/index.ts';
import { loadTokenizerFrom } from '../model/gguf/load-tokenizer.ts';
import { aggregate } from './aggregate.ts';
import {
  endpointPromptSource,
  localPromptSource,
  probeEndpointTokenizer,
  type PromptSource,
} from './prompt-source.ts';
import { selectQuestions } from './questions.ts';
import { paperFor, summaryHtml, summaryMarkdown, type EvalSummary } from './report.ts';
import { runEval, type EvalProgress, type SamplingSettings } from './run.ts';
import type { ScoringMode } from './score.ts';
import { loadResults, ResultsWriter } from './store.ts';
import type { Suite } from './tasks.ts';

export interface EvalCommandOptions {
  readonly endpoint: string;
  readonly model: string;
  readonly apiKey?: string;
  readonly suite: Suite;
  readonly dataDir?: string;
  readonly tokenizer?: string;
  readonly tasks?: readonly string[];
  readonly limit?: number;
  readonly maxInputLen: number;
  readonly n: number;
  readonly sampling: SamplingSettings;
  readonly judgeEndpoint?: string;
  readonly judgeModel?: string;
  readonly judgeApiKey?: string;
  readonly judgeMaxTokens: number;
  readonly concurrency: number;
  readonly retries: number;
  readonly timeoutMs: number;
  readonly outDir: string;
  readonly resume: boolean;
  readonly scoring: ScoringMode;
  readonly onProgress?: (p: EvalProgress) => void;
  readonly onWarning?: (message: string) => void;
}

export interface EvalCommandResult {
  readonly summary: EvalSummary;
  readonly markdown: string;
  readonly files: {
    readonly samples: string;
    readonly json: string;
    readonly md: string;
    readonly html: string;
  };
}

/** `/v1` base URL of an endpoint given with or without it. */
export function v1Url(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}

/** The settings a resumed run must share with the run that wrote the results. */
function runIdentity(o: EvalCommandOptions): Record<string, unknown> {
  return {
    suite: o.suite,
    model: o.model,
    maxInputLen: o.maxInputLen,
    n: o.n,
    temperature: o.sampling.temperature,
    topP: o.sampling.topP,
    maxTokens: o.sampling.maxTokens,
    seed: o.sampling.seed,
    sharedSeed: o.sampling.sharedSeed,
  };
}

function checkOutDir(o: EvalCommandOptions, samplesFile: string, runFile: string): void {
  mkdirSync(o.outDir, { recursive: true });
  const identity = runIdentity(o);
  const hasSamples = existsSync(samplesFile) && statSync(samplesFile).size > 0;
  if (hasSamples && !o.resume) {
    throw new ConfigurationError(
      `${samplesFile} already holds results; pass --resume to continue that run, or choose another --out`,
    );
  }
  if (o.resume && existsSync(runFile)) {
    const before = JSON.parse(readFileSync(runFile, 'utf8')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(identity)) {
      if (JSON.stringify(before[key]) !== JSON.stringify(value)) {
        throw new ConfigurationError(
          `--resume: ${key} was ${JSON.stringify(before[key])} in ${runFile}, now ${JSON.stringify(value)}; resume with the same settings or choose another --out`,
        );
      }
    }
  }
  writeFileAtomic(runFile, `${JSON.stringify(identity, null, 2)}\n`);
}

/**
 * Run `spell eval` end to end.
 * @throws ConfigurationError for bad settings, DataError for bad benchmark files,
 *   EvalError when samples failed to generate (after the summary was written)
 */
export async function runEvalCommand(o: EvalCommandOptions): Promise<EvalCommandResult> {
  if (o.judgeEndpoint !== undefined && o.judgeModel === undefined) {
    throw new ConfigurationError('--judge-endpoint needs --judge-model');
  }
  const samplesFile = join(o.outDir, 'samples.jsonl');
  const runFile = join(o.outDir, 'run.json');
  const { tasks, questions, warnings } = await selectQuestions({
    suite: o.suite,
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(o.tasks !== undefined ? { tasks: o.tasks } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
  });
  for (const w of warnings) o.onWarning?.(w);
  checkOutDir(o, samplesFile, runFile);

  const engine = new OpenAiChatEngine({
    baseURL: v1Url(o.endpoint),
    model: o.model,
    ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}),
    concurrency: o.concurrency,
    maxRetries: o.retries,
    timeoutMs: o.timeoutMs,
  });
  let prompts: PromptSource;
  if (o.tokenizer !== undefined) {
    prompts = localPromptSource(loadTokenizerFrom(o.tokenizer));
  } else {
    prompts = endpointPromptSource(engine);
    await probeEndpointTokenizer(engine);
  }
  const judgeEngine =
    o.judgeEndpoint !== undefined && o.judgeModel !== undefined
      ? new OpenAiChatEngine({
          baseURL: v1Url(o.judgeEndpoint),
          model: o.judgeModel,
          ...(o.judgeApiKey !== undefined ? { apiKey: o.judgeApiKey } : {}),
          concurrency: o.concurrency,
          maxRetries: o.retries,
          timeoutMs: o.timeoutMs,
        })
      : undefined;

  const loaded = loadResults(samplesFile);
  if (loaded.droppedPartialLine) o.onWarning?.(`${samplesFile}: ignored a cut-off last line`);
  const writer = new ResultsWriter(samplesFile);
  writer.repairTail();
  const run = await runEval({
    engine,
    prompts,
    ...(judgeEngine ? { judge: { engine: judgeEngine, maxTokens: o.judgeMaxTokens } } : {}),
    questions,
    n: o.n,
    maxInputLen: o.maxInputLen,
    sampling: o.sampling,
    concurrency: o.concurrency,
    writer,
    existing: loaded.records,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  writer.compact(run.allRecords);

  const other: ScoringMode = o.scoring === 'as-coded' ? 'as-described' : 'as-coded';
  const paper = o.suite === 'paper' ? paperFor(o.model, o.maxInputLen) : undefined;
  const summary: EvalSummary = {
    suite: o.suite,
    model: o.model,
    judgeModel: judgeEngine?.model ?? null,
    scoring: o.scoring,
    n: o.n,
    maxInputLen: o.maxInputLen,
    sampling: { ...o.sampling },
    tokenizer: prompts.description,
    generationFailures: run.generationFailures,
    result: aggregate(run.records, tasks, o.n, o.scoring, o.suite),
    otherMode: aggregate(run.records, tasks, o.n, other, o.suite),
    ...(paper ? { paper } : {}),
  };
  const markdown = summaryMarkdown(summary);
  const files = {
    samples: samplesFile,
    json: join(o.outDir, 'summary.json'),
    md: join(o.outDir, 'summary.md'),
    html: join(o.outDir, 'summary.html'),
  };
  writeFileAtomic(files.json, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileAtomic(files.md, markdown);
  writeFileAtomic(files.html, summaryHtml(summary));
  if (run.generationFailures > 0) {
    throw new EvalError(
      `${run.generationFailures} sample(s) failed to generate (first: ${run.errors[0]}); the summary in ${files.md} leaves their questions out — re-run with --resume`,
    );
  }
  return { summary, markdown, files };
}
