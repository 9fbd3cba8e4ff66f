/**
 * `spell eval`: the paper's long-context evaluation against any OpenAI-compatible endpoint
 * (vLLM, SGLang, `spell serve`), or the bundled synthetic held-out set with `--suite synthetic`.
 * Parses flags, shows a progress bar with throughput on stderr, prints the markdown summary on
 * stdout. Everything else lives in src/eval/.
 */
import { Option, type Command } from 'commander';
import {
  runEvalCommand,
  SCORING_MODES,
  SUITES,
  type ScoringMode,
  type Suite,
} from '../../eval/index.ts';
import type { EvalProgress } from '../../eval/index.ts';
import { parseIntFlag, parseNumberFlag } from '../flags.ts';
import { progressBar } from '../progress.ts';

interface EvalFlags {
  endpoint: string;
  model: string;
  apiKey?: string;
  suite: Suite;
  dataDir?: string;
  tokenizer?: string;
  tasks?: string;
  limit?: string;
  maxInputLen: string;
  n: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  seed: string;
  sharedSeed: boolean;
  judgeEndpoint?: string;
  judgeModel?: string;
  judgeApiKey?: string;
  judgeMaxTokens: string;
  concurrency: string;
  retries: string;
  timeoutS: string;
  out?: string;
  resume: boolean;
  scoring: ScoringMode;
  progress: boolean;
}

function defaultOut(model: string, suite: Suite, maxInputLen: number, n: number): string {
  const safe = model.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `eval-runs/${safe}-${suite}-I${maxInputLen}-N${n}`;
}

function progressDisplay(enabled: boolean): {
  onProgress: (p: EvalProgress) => void;
  stop: () => void;
} {
  const started = Date.now();
  const bar = progressBar(
    enabled,
    'eval [{bar}] {value}/{total} | {rate} samples/s | {tps} tok/s | judge fails {jf} | gen fails {gf} | ETA {eta_formatted}',
  );
  let startedBar = false;
  let last: EvalProgress | undefined;
  return {
    onProgress: (p) => {
      last = p;
      const secs = Math.max(1e-3, (Date.now() - started) / 1000);
      const payload = {
        rate: (p.generated / secs).toFixed(2),
        tps: (p.completionTokens / secs).toFixed(1),
        jf: p.judgeFailures,
        gf: p.generationFailures,
      };
      if (!bar) return;
      if (!startedBar) {
        bar.start(p.total, p.done, payload);
        startedBar = true;
      } else {
        bar.update(p.done, payload);
      }
    },
    stop: () => {
      bar?.stop();
      if (last) {
        const secs = Math.max(1e-3, (Date.now() - started) / 1000);
        process.stderr.write(
          `spell eval: ${last.done}/${last.total} requests in ${secs.toFixed(1)} s (${(last.generated / secs).toFixed(2)} samples/s, ${(last.completionTokens / secs).toFixed(1)} completion tok/s); judge calls ${last.judged}, failed ${last.judgeFailures}; generation failures ${last.generationFailures}\n`,
        );
      }
    },
  };
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      "evaluate a model behind an OpenAI-compatible endpoint on the paper's long-context benchmarks (or the synthetic held-out set)",
    )
    .requiredOption('--endpoint <URL>', 'OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1')
    .requiredOption(
      '--model <NAME>',
      'model name to request (also matched against the paper Table 1)',
    )
    .option('--api-key <KEY>', 'bearer key for --endpoint (default $OPENAI_API_KEY or none)')
    .addOption(
      new Option('--suite <S>', 'paper benchmarks or the bundled synthetic set')
        .choices(SUITES)
        .default('paper'),
    )
    .option(
      '--data-dir <DIR>',
      'benchmark folder (paper suite), or a corpus folder / eval.jsonl (synthetic)',
    )
    .option(
      '--tokenizer <DIR|GGUF>',
      'HF tokenizer folder, or a .gguf file, for chat template + truncation (default: the endpoint /tokenize)',
    )
    .option('--tasks <LIST>', 'comma-separated subset of the suite tasks')
    .option('--limit <N>', 'only the first N questions of each task')
    .option('--max-input-len <N>', 'middle-truncate the templated prompt to N tokens', '16384')
    .option('--n <N>', 'samples per question', '8')
    .option('--temperature <T>', 'sampling temperature', '0.7')
    .option('--top-p <P>', 'nucleus sampling', '0.95')
    .option(
      '--max-tokens <N>',
      'generated tokens per sample (paper: 4096, 20000 for reasoning models)',
      '4096',
    )
    .option('--seed <S>', 'sample j uses seed S+j', '42')
    .option(
      '--shared-seed',
      'give every sample the same seed, as the released code does (bug B6)',
      false,
    )
    .option('--judge-endpoint <URL>', 'OpenAI-compatible endpoint of the LLM judge')
    .option('--judge-model <NAME>', 'judge model name (the paper: gpt-oss-120b)')
    .option(
      '--judge-api-key <KEY>',
      'bearer key for --judge-endpoint (default $OPENAI_API_KEY or none)',
    )
    .option('--judge-max-tokens <N>', 'judge reply budget', '8192')
    .option('--concurrency <C>', 'requests in flight', '8')
    .option('--retries <R>', 'retries per request on transient errors', '3')
    .option('--timeout-s <S>', 'per-request timeout in seconds', '1800')
    .option('--out <DIR>', 'output folder (default eval-runs/<model>-<suite>-I<len>-N<n>)')
    .option('--resume', 'continue the run in --out, skipping finished samples', false)
    .addOption(
      new Option('--scoring <MODE>', 'headline scoring mode (both are reported)')
        .choices(SCORING_MODES)
        .default('as-described'),
    )
    .option('--no-progress', 'no progress bar')
    .action(async (flags: EvalFlags) => {
      const maxInputLen = parseIntFlag(flags.maxInputLen, '--max-input-len', { min: 1 });
      const n = parseIntFlag(flags.n, '--n', { min: 1, max: 1024 });
      const apiKey = flags.apiKey ?? process.env.OPENAI_API_KEY;
      const judgeApiKey = flags.judgeApiKey ?? process.env.OPENAI_API_KEY;
      const display = progressDisplay(flags.progress);
      try {
        const result = await runEvalCommand({
          endpoint: flags.endpoint,
          model: flags.model,
          ...(apiKey ? { apiKey } : {}),
          suite: flags.suite,
          ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
          ...(flags.tokenizer !== undefined ? { tokenizer: flags.tokenizer } : {}),
          ...(flags.tasks !== undefined
            ? {
                tasks: flags.tasks
                  .split(',')
                  .map((t) => t.trim())
                  .filter((t) => t !== ''),
              }
            : {}),
          ...(flags.limit !== undefined
            ? { limit: parseIntFlag(flags.limit, '--limit', { min: 1 }) }
            : {}),
          maxInputLen,
          n,
          sampling: {
            temperature: parseNumberFlag(flags.temperature, '--temperature', { min: 0 }),
            topP: parseNumberFlag(flags.topP, '--top-p', { above: 0, max: 1 }),
            maxTokens: parseIntFlag(flags.maxTokens, '--max-tokens', { min: 1 }),
            seed: parseIntFlag(flags.seed, '--seed', { min: 0 }),
            sharedSeed: flags.sharedSeed,
          },
          ...(flags.judgeEndpoint !== undefined ? { judgeEndpoint: flags.judgeEndpoint } : {}),
          ...(flags.judgeModel !== undefined ? { judgeModel: flags.judgeModel } : {}),
          ...(judgeApiKey ? { judgeApiKey } : {}),
          judgeMaxTokens: parseIntFlag(flags.judgeMaxTokens, '--judge-max-tokens', { min: 1 }),
          concurrency: parseIntFlag(flags.concurrency, '--concurrency', { min: 1 }),
          retries: parseIntFlag(flags.retries, '--retries', { min: 0 }),
          timeoutMs: 1000 * parseNumberFlag(flags.timeoutS, '--timeout-s', { above: 0 }),
          outDir: flags.out ?? defaultOut(flags.model, flags.suite, maxInputLen, n),
          resume: flags.resume,
          scoring: flags.scoring,
          onProgress: display.onProgress,
          onWarning: (m) => process.stderr.write(`spell eval: warning: ${m}\n`),
        });
        display.stop();
        process.stdout.write(result.markdown);
        process.stderr.write(
          `spell eval: results in ${result.files.samples}; summary in ${result.files.md}, ${result.files.json}, ${result.files.html}\n`,
        );
      } catch (err) {
        display.stop();
        throw err;
      }
    });
}
