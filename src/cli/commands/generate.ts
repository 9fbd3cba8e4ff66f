/**
 * `spell generate`: SPELL's self-play as a data engine over any OpenAI-compatible endpoint
 * (vLLM, SGLang, llama.cpp server, hosted APIs, `spell serve`). Reads flags and environment,
 * builds the engines, corpus and token counter, runs `runGenerate`, shows a progress bar and
 * prints the summary. All the work is in src/generate/.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigurationError } from '../../core/errors.ts';
import { defaultCorpusPath, readCorpus, routeClusters, DEFAULT_ROUTING } from '../../data/index.ts';
import { OpenAiChatEngine } from '../../engine/openai/index.ts';
import {
  DEFAULT_DUPLICATE_THRESHOLD,
  DEFAULT_KEEP,
  REJECT_REASONS,
  datasetFormat,
  endpointCounter,
  formatSummary,
  parseKeepPolicy,
  runGenerate,
  tokenizerCounter,
  type GenerateProgress,
  type TokenCounter,
} from '../../generate/index.ts';
import { DEFAULT_ALGORITHM_CONFIG } from '../../spell/config.ts';
import { parseQaMetric } from '../../spell/rules/index.ts';
import { parseTask, type Task } from '../../spell/task.ts';
import { loadTokenizer } from '../../text/index.ts';

interface GenerateFlags {
  endpoint: string;
  model: string;
  apiKey?: string;
  data?: string[];
  out: string;
  tasks: string;
  questions: string;
  maxAttempts?: string;
  groupSize: string;
  votes: string;
  judgeEndpoint?: string;
  judgeModel?: string;
  judgeApiKey?: string;
  concurrency: string;
  retries: string;
  timeout: string;
  resume?: boolean;
  keep: string;
  docsPerQuestion: string;
  maxPromptTokens: string;
  maxTokens: string;
  temperature: string;
  topP: string;
  seed: string;
  tokenizer?: string;
  duplicateThreshold: string;
  qaMetric: string;
  qaAnswerInDocuments?: boolean;
  mcSwapLetter?: boolean;
  state?: string;
  priceInput?: string;
  priceOutput?: string;
  progress: boolean;
}

function int(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new ConfigurationError(`${flag} must be an integer >= ${min}, got '${value}'`);
  }
  return n;
}

function num(value: string, flag: string, ok: (n: number) => boolean, expected: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !ok(n)) {
    throw new ConfigurationError(`${flag} must be ${expected}, got '${value}'`);
  }
  return n;
}

function parseTasks(value: string): Task[] {
  const tasks: Task[] = [];
  for (const name of value.split(',')) {
    const t = parseTask(name);
    if (t === undefined) {
      throw new ConfigurationError(`--tasks: unknown task '${name}' (expected docmath, qa, mc)`);
    }
    if (!tasks.includes(t)) tasks.push(t);
  }
  return tasks;
}

/** Accept a server root (http://host:8000) as well as its /v1 base. */
function baseUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`${flag} '${value}' is not a URL (e.g. http://127.0.0.1:8000/v1)`);
  }
  return url.pathname === '/' || url.pathname === '' ? `${url.origin}/v1` : value;
}

function progressLine(p: GenerateProgress): Record<string, string | number> {
  const short: Record<string, string> = {
    format_error: 'format',
    invalid_answer: 'invalid',
    unfinished_think: 'think',
    near_duplicate: 'dup',
    answerable_without_documents: 'ungrounded',
    prompt_too_long: 'long',
    none_correct: 'p=0',
    all_correct: 'p=1',
    pass_rate_outside_keep: 'outside',
  };
  const rejected = REJECT_REASONS.filter((r) => p.rejected[r] > 0)
    .map((r) => `${short[r]} ${p.rejected[r]}`)
    .join(' ');
  const minutes = p.sessionElapsedMs / 60000;
  return {
    kept: p.kept,
    target: p.target,
    rejected: rejected === '' ? '-' : rejected,
    errors: p.errors,
    inflight: p.inFlight,
    rate: minutes > 0 ? (p.sessionFinished / minutes).toFixed(1) : '0.0',
    ktok: (p.totalTokens / 1000).toFixed(0),
  };
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description(
      "SPELL's self-play as a data engine: grounded, verified QA with measured pass rates, over any OpenAI-compatible endpoint",
    )
    .requiredOption('--endpoint <URL>', 'OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1')
    .requiredOption('--model <NAME>', 'model name to request')
    .requiredOption('--out <FILE>', 'final dataset, .jsonl or .parquet')
    .option('--api-key <KEY>', 'API key (default: $SPELL_API_KEY, $OPENAI_API_KEY, or none)')
    .option(
      '--data <PATH...>',
      'corpus files or folders (JSONL/parquet); default: the bundled corpus',
    )
    .option('--tasks <LIST>', 'comma-separated tasks: docmath, qa, mc', 'docmath,qa,mc')
    .option('--questions <N>', 'stop once this many questions are kept', '100')
    .option('--max-attempts <M>', 'most questioner calls (question slots) to use; default 10 × N')
    .option('--group-size <G>', 'responder answers per question', '8')
    .option('--votes <V>', 'verifier votes per checkable answer (0: rule checks only)', '8')
    .option('--judge-endpoint <URL>', 'separate endpoint for the verifier votes')
    .option('--judge-model <NAME>', 'model for the verifier votes (with --judge-endpoint)')
    .option('--judge-api-key <KEY>', 'API key of the judge endpoint (default: --api-key)')
    .option('--concurrency <C>', 'question slots (and requests per endpoint) in flight', '8')
    .option('--retries <R>', 'retries per request on 5xx/429/connection errors', '3')
    .option('--timeout <S>', 'seconds per request attempt', '600')
    .option('--resume', 'continue the run recorded in the state file')
    .option('--keep <INTERVAL>', "pass rates kept, e.g. (0,1), [0.25,0.75] or 'all'", DEFAULT_KEEP)
    .option('--docs-per-question <K>', 'new documents per questioner draw', '5')
    .option('--max-prompt-tokens <T>', 'prompts longer than this are not sent', '18000')
    .option('--max-tokens <T>', 'generated tokens per reply, every role', '4096')
    .option('--temperature <X>', 'sampling temperature, every role', '0.7')
    .option('--top-p <X>', 'nucleus sampling, every role', '0.95')
    .option('--seed <S>', 'seeds cluster order, document draws and request seeds', '0')
    .option(
      '--tokenizer <DIR>',
      'HF tokenizer folder for exact token counts (else /tokenize, else an estimate)',
    )
    .option(
      '--duplicate-threshold <J>',
      'token-set Jaccard at which a question is a near duplicate',
      String(DEFAULT_DUPLICATE_THRESHOLD),
    )
    .option(
      '--qa-metric <M>',
      'QA rule check: cem-strict, cem-loose, em, f1, half-em',
      'cem-strict',
    )
    .option(
      '--qa-answer-in-documents',
      "reject free-form QA references that do not occur in the questioner's documents",
    )
    .option(
      '--mc-swap-letter',
      'when an MC answer is not under the letter its prompt required, move the right option there instead of rejecting it',
    )
    .option('--state <FILE>', 'state file (default <out>.state.jsonl)')
    .option('--price-input <P>', 'price per million prompt tokens, for the cost estimate')
    .option('--price-output <P>', 'price per million completion tokens, for the cost estimate')
    .option('--no-progress', 'no progress bar')
    .action(async (flags: GenerateFlags) => {
      const out = resolve(flags.out);
      datasetFormat(out);
      const tasks = parseTasks(flags.tasks);
      const questions = int(flags.questions, '--questions', 1);
      const maxAttempts =
        flags.maxAttempts === undefined
          ? questions * 10
          : int(flags.maxAttempts, '--max-attempts', 1);
      const groupSize = int(flags.groupSize, '--group-size', 1);
      const votes = int(flags.votes, '--votes', 0);
      const concurrency = int(flags.concurrency, '--concurrency', 1);
      const retries = int(flags.retries, '--retries', 0);
      const timeoutS = num(
        flags.timeout,
        '--timeout',
        (n) => n > 0,
        'a positive number of seconds',
      );
      const keep = parseKeepPolicy(flags.keep);
      const docsPerQuestion = int(flags.docsPerQuestion, '--docs-per-question', 1);
      const maxPromptTokens = int(flags.maxPromptTokens, '--max-prompt-tokens', 1);
      const maxTokens = int(flags.maxTokens, '--max-tokens', 1);
      const temperature = num(flags.temperature, '--temperature', (n) => n >= 0, 'a number >= 0');
      const topP = num(flags.topP, '--top-p', (n) => n > 0 && n <= 1, 'in (0, 1]');
      const seed = int(flags.seed, '--seed', 0);
      const duplicateThreshold = num(
        flags.duplicateThreshold,
        '--duplicate-threshold',
        (n) => n > 0 && n <= 1,
        'in (0, 1]',
      );
      const qaMetric = parseQaMetric(flags.qaMetric);
      const answerInDocs = flags.qaAnswerInDocuments === true;
      const swapLetter = flags.mcSwapLetter === true;
      if (qaMetric === undefined) {
        throw new ConfigurationError(
          `--qa-metric: unknown metric '${flags.qaMetric}' (expected cem-strict, cem-loose, em, f1, half-em)`,
        );
      }
      if ((flags.judgeEndpoint === undefined) !== (flags.judgeModel === undefined)) {
        throw new ConfigurationError('--judge-endpoint and --judge-model go together');
      }
      if ((flags.priceInput === undefined) !== (flags.priceOutput === undefined)) {
        throw new ConfigurationError('--price-input and --price-output go together');
      }
      const prices =
        flags.priceInput !== undefined && flags.priceOutput !== undefined
          ? {
              inputPerMillion: num(
                flags.priceInput,
                '--price-input',
                (n) => n >= 0,
                'a number >= 0',
              ),
              outputPerMillion: num(
                flags.priceOutput,
                '--price-output',
                (n) => n >= 0,
                'a number >= 0',
              ),
            }
          : undefined;
      const apiKey = flags.apiKey ?? process.env.SPELL_API_KEY ?? process.env.OPENAI_API_KEY;
      const engineOptions = {
        maxRetries: retries,
        concurrency,
        timeoutMs: timeoutS * 1000,
      };
      const engine = new OpenAiChatEngine({
        baseURL: baseUrl(flags.endpoint, '--endpoint'),
        model: flags.model,
        ...(apiKey !== undefined ? { apiKey } : {}),
        ...engineOptions,
      });
      const judgeKey = flags.judgeApiKey ?? apiKey;
      const judge =
        flags.judgeEndpoint !== undefined && flags.judgeModel !== undefined
          ? new OpenAiChatEngine({
              baseURL: baseUrl(flags.judgeEndpoint, '--judge-endpoint'),
              model: flags.judgeModel,
              ...(judgeKey !== undefined ? { apiKey: judgeKey } : {}),
              ...engineOptions,
            })
          : undefined;

      const notice = (m: string): void => void process.stderr.write(`spell generate: ${m}\n`);
      const dataPaths = (flags.data ?? [defaultCorpusPath()]).map((p) => resolve(p));
      const corpus = await readCorpus(dataPaths, { skipBad: true });
      const skipped = Object.entries(corpus.skipped).filter(([, n]) => (n ?? 0) > 0);
      if (skipped.length > 0) {
        notice(`skipped bad corpus rows: ${skipped.map(([r, n]) => `${r} ${n}`).join(', ')}`);
      }
      const routed = routeClusters(corpus.clusters, DEFAULT_ROUTING, seed);
      if (routed.unrouted.length > 0) {
        notice(`${routed.unrouted.length} clusters match no task routing and are not used`);
      }

      let counter: TokenCounter;
      if (flags.tokenizer !== undefined) {
        counter = tokenizerCounter(loadTokenizer(flags.tokenizer));
      } else {
        counter = await endpointCounter(engine, (why) =>
          notice(
            `token counts are ESTIMATED (4 characters per token): ${why}; pass --tokenizer for exact budgets`,
          ),
        );
      }

      const controller = new AbortController();
      let interrupts = 0;
      const onSigint = (): void => {
        interrupts++;
        if (interrupts === 1) {
          notice(
            'stopping: finishing the questions in flight (Ctrl-C again to quit at once; --resume continues)',
          );
          controller.abort();
        } else {
          process.exit(130);
        }
      };
      process.on('SIGINT', onSigint);

      const showBar = flags.progress && process.stderr.isTTY === true;
      const bar = showBar
        ? new cliProgress.SingleBar(
            {
              format:
                'slots {value}/{total} [{bar}] kept {kept}/{target} | rejected {rejected} | errors {errors} | {rate} q/min | {ktok}k tok',
              hideCursor: true,
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(
        maxAttempts,
        0,
        progressLine({
          finished: 0,
          maxAttempts,
          kept: 0,
          target: questions,
          rejected: Object.fromEntries(
            REJECT_REASONS.map((r) => [r, 0]),
          ) as GenerateProgress['rejected'],
          errors: 0,
          inFlight: 0,
          sessionFinished: 0,
          sessionElapsedMs: 0,
          totalTokens: 0,
        }),
      );
      let lastLine = 0;
      const statePath = resolve(flags.state ?? `${out}.state.jsonl`);
      try {
        const result = await runGenerate({
          engine,
          ...(judge !== undefined ? { judge } : {}),
          counter,
          clusters: routed.byTask,
          tasks,
          identity: {
            model: flags.model,
            tasks,
            seed,
            groupSize,
            votes,
            docsPerQuestion,
            keep: keep.spec,
            data: dataPaths,
            ...(answerInDocs ? { qaAnswerInDocuments: true as const } : {}),
            ...(swapLetter ? { mcWrongLetter: 'swap' as const } : {}),
          },
          settings: {
            groupSize,
            votes,
            docsPerQuestion,
            maxPromptTokens,
            maxTokens,
            temperature,
            topP,
            seed,
            qaMetric,
            algorithm: {
              ...DEFAULT_ALGORITHM_CONFIG,
              questioner: {
                ...DEFAULT_ALGORITHM_CONFIG.questioner,
                qaAnswerInDocuments: answerInDocs,
                mcWrongLetter: swapLetter ? 'swap' : 'format_error',
              },
            },
          },
          keep,
          duplicateThreshold,
          questions,
          maxAttempts,
          concurrency,
          out,
          statePath,
          summaryPath: `${out}.summary.json`,
          resume: flags.resume === true,
          maxConsecutiveErrors: Math.max(10, 2 * concurrency),
          ...(prices !== undefined ? { prices } : {}),
          signal: controller.signal,
          onNotice: notice,
          onProgress: (p) => {
            if (bar) {
              bar.update(p.finished + p.errors, progressLine(p));
            } else if (flags.progress && Date.now() - lastLine > 10_000) {
              lastLine = Date.now();
              const l = progressLine(p);
              notice(
                `slots ${p.finished}/${p.maxAttempts}, kept ${p.kept}/${p.target}, rejected ${l.rejected}, errors ${p.errors}, ${l.rate} q/min`,
              );
            }
          },
        });
        bar?.stop();
        process.stdout.write(
          formatSummary(result.summary, {
            elapsedMs: result.sessionElapsedMs,
            slots: result.sessionFinished,
          }) + '\n',
        );
        const why = {
          target_reached: `reached ${questions} kept questions`,
          attempts_exhausted: `used all ${maxAttempts} question slots`,
          interrupted: 'interrupted; --resume continues',
        }[result.stoppedBecause];
        process.stdout.write(
          `stopped: ${why}\nwrote ${result.rows} questions to ${out} (state ${statePath}, summary ${out}.summary.json)\n`,
        );
        if (result.summary.errors > 0) {
          notice(
            `${result.summary.errors} question slots failed at the endpoint; re-run with --resume to retry them`,
          );
        }
      } finally {
        bar?.stop();
        process.off('SIGINT', onSigint);
      }
    });
}
