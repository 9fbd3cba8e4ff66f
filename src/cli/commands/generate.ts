/**
 * `spell generate`: SPELL's self-play as a data engine over any OpenAI-compatible endpoint
 * (vLLM, SGLang, llama.cpp server, hosted APIs, `spell serve`). Parses flags, shows a progress bar
 * and prints the summary; the run itself is `runGenerateCommand` in src/generate/.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors.ts';
import { defaultCorpusPath } from '../../data/index.ts';
import {
  DEFAULT_DUPLICATE_THRESHOLD,
  DEFAULT_KEEP,
  REJECT_REASONS,
  datasetFormat,
  formatSummary,
  parseKeepPolicy,
  runGenerateCommand,
  type GenerateProgress,
} from '../../generate/index.ts';
import { QA_METRICS, parseQaMetric } from '../../spell/rules/index.ts';
import { REWARD_COMBINES } from '../../spell/config.ts';
import { parseTask } from '../../spell/task.ts';
import {
  parseChoiceFlag,
  parseChoiceListFlag,
  parseIntFlag,
  parseNamedFlag,
  parseNumberFlag,
  parseUrlFlag,
} from '../flags.ts';
import { onInterrupt } from '../interrupt.ts';
import { progressBar } from '../progress.ts';

interface GenerateFlags {
  endpoint: string;
  model: string;
  apiKey?: string;
  data?: string[];
  out: string;
  tasks?: string;
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
  rewardCombine: string;
  state?: string;
  priceInput?: string;
  priceOutput?: string;
  progress: boolean;
}

function progressLine(p: GenerateProgress): Record<string, string | number> {
  const short: Record<string, string> = {
    bad_format: 'format',
    invalid_answer: 'invalid',
    unfinished_think: 'think',
    near_duplicate: 'dup',
    bad_ground: 'ungrounded',
    overlong_prompt: 'long',
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
      'corpus files or folders (JSONL, parquet, or .txt/.md text folders); default: the bundled corpus',
    )
    .option(
      '--tasks <LIST>',
      'comma-separated tasks: docmath, qa, mc (default: every task the corpus has clusters for)',
    )
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
      '--tokenizer <DIR|GGUF>',
      'HF tokenizer folder, or a .gguf file, for exact token counts (else /tokenize, else an estimate)',
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
    .option(
      '--reward-combine <C>',
      `responder reward from rule score and verifier majority: ${REWARD_COMBINES.join(', ')}`,
      'max',
    )
    .option('--state <FILE>', 'state file (default <out>.state.jsonl)')
    .option('--price-input <P>', 'price per million prompt tokens, for the cost estimate')
    .option('--price-output <P>', 'price per million completion tokens, for the cost estimate')
    .option('--no-progress', 'no progress bar')
    .action(async (flags: GenerateFlags) => {
      const out = resolve(flags.out);
      datasetFormat(out);
      const tasks =
        flags.tasks === undefined
          ? undefined
          : parseChoiceListFlag(flags.tasks, '--tasks', parseTask, 'docmath, qa, mc');
      const questions = parseIntFlag(flags.questions, '--questions', { min: 1 });
      const maxAttempts =
        flags.maxAttempts === undefined
          ? questions * 10
          : parseIntFlag(flags.maxAttempts, '--max-attempts', { min: 1 });
      const concurrency = parseIntFlag(flags.concurrency, '--concurrency', { min: 1 });
      if ((flags.judgeEndpoint === undefined) !== (flags.judgeModel === undefined)) {
        throw new ConfigurationError('--judge-endpoint and --judge-model go together');
      }
      if ((flags.priceInput === undefined) !== (flags.priceOutput === undefined)) {
        throw new ConfigurationError('--price-input and --price-output go together');
      }
      const price = (v: string, flag: string): number => parseNumberFlag(v, flag, { min: 0 });
      const apiKey = flags.apiKey ?? process.env.SPELL_API_KEY ?? process.env.OPENAI_API_KEY;
      const judgeKey = flags.judgeApiKey ?? apiKey;
      const options = {
        endpoint: {
          baseURL: parseUrlFlag(flags.endpoint, '--endpoint', '/v1'),
          model: flags.model,
          ...(apiKey !== undefined ? { apiKey } : {}),
        },
        ...(flags.judgeEndpoint !== undefined && flags.judgeModel !== undefined
          ? {
              judge: {
                baseURL: parseUrlFlag(flags.judgeEndpoint, '--judge-endpoint', '/v1'),
                model: flags.judgeModel,
                ...(judgeKey !== undefined ? { apiKey: judgeKey } : {}),
              },
            }
          : {}),
        dataPaths: flags.data ?? [defaultCorpusPath()],
        out,
        statePath: resolve(flags.state ?? `${out}.state.jsonl`),
        tasks,
        questions,
        maxAttempts,
        groupSize: parseIntFlag(flags.groupSize, '--group-size', { min: 1 }),
        votes: parseIntFlag(flags.votes, '--votes', { min: 0 }),
        concurrency,
        retries: parseIntFlag(flags.retries, '--retries', { min: 0 }),
        timeoutMs: 1000 * parseNumberFlag(flags.timeout, '--timeout', { above: 0 }),
        keep: parseKeepPolicy(flags.keep),
        docsPerQuestion: parseIntFlag(flags.docsPerQuestion, '--docs-per-question', { min: 1 }),
        maxPromptTokens: parseIntFlag(flags.maxPromptTokens, '--max-prompt-tokens', { min: 1 }),
        maxTokens: parseIntFlag(flags.maxTokens, '--max-tokens', { min: 1 }),
        temperature: parseNumberFlag(flags.temperature, '--temperature', { min: 0 }),
        topP: parseNumberFlag(flags.topP, '--top-p', { above: 0, max: 1 }),
        seed: parseIntFlag(flags.seed, '--seed', { min: 0 }),
        ...(flags.tokenizer !== undefined ? { tokenizer: flags.tokenizer } : {}),
        duplicateThreshold: parseNumberFlag(flags.duplicateThreshold, '--duplicate-threshold', {
          above: 0,
          max: 1,
        }),
        qaMetric: parseNamedFlag(
          flags.qaMetric,
          '--qa-metric',
          parseQaMetric,
          `one of ${QA_METRICS.join(', ')}`,
        ),
        qaAnswerInDocuments: flags.qaAnswerInDocuments === true,
        mcSwapLetter: flags.mcSwapLetter === true,
        rewardCombine: parseChoiceFlag(flags.rewardCombine, '--reward-combine', REWARD_COMBINES),
        ...(flags.priceInput !== undefined && flags.priceOutput !== undefined
          ? {
              prices: {
                inputPerMillion: price(flags.priceInput, '--price-input'),
                outputPerMillion: price(flags.priceOutput, '--price-output'),
              },
            }
          : {}),
        resume: flags.resume === true,
      };
      const notice = (m: string): void => void process.stderr.write(`spell generate: ${m}\n`);
      const interrupt = onInterrupt(
        'generate',
        'stopping: finishing the questions in flight; --resume continues',
      );
      const bar = progressBar(
        flags.progress,
        'slots {value}/{total} [{bar}] kept {kept}/{target} | rejected {rejected} | errors {errors} | {rate} q/min | {ktok}k tok',
      );
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
      try {
        const result = await runGenerateCommand({
          ...options,
          signal: interrupt.signal,
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
          `stopped: ${why}\nwrote ${result.rows} questions to ${out} (state ${options.statePath}, summary ${out}.summary.json)\n`,
        );
        if (result.summary.errors > 0) {
          notice(
            `${result.summary.errors} question slots failed at the endpoint${result.lastError !== undefined ? ` (last: ${result.lastError})` : ''}; re-run with --resume to retry them`,
          );
        }
      } finally {
        bar?.stop();
        interrupt.dispose();
      }
    });
}
