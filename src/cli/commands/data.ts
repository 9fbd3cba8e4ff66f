/**
 * `spell data`: look at corpora and make the embedded one.
 * - `spell data stats PATH...`: clusters per task, documents per cluster, token lengths, problems
 *   (of record files and of text folders, cut with the same bounds `spell train` uses).
 * - `spell data synth --seed S --out DIR`: write the synthetic corpus (train + held-out eval).
 */
import type { Command } from 'commander';
import { writeFileAtomic } from '../../core/atomic.ts';
import { trainingClusters } from '../../pretrain/clusters.ts';
import {
  DEFAULT_ROUTING,
  DEFAULT_SYNTH_OPTIONS,
  DEFAULT_TEXT_BOUNDS,
  corpusStats,
  countWords,
  formatStats,
  readCorpus,
  writeSynthCorpus,
  type CountTokens,
} from '../../data/index.ts';
import { loadTokenizer } from '../../text/tokenizer.ts';
import { intArg } from '../flags.ts';

interface StatsOptions {
  readonly skipBad: boolean;
  readonly json: boolean;
  readonly tokenizer?: string;
  readonly seed: number;
  readonly textDocumentChars: number;
  readonly textClusterChars: number;
}

interface SynthCliOptions {
  readonly seed: number;
  readonly out: string;
  readonly clusters: number;
  readonly evalPerTask: number;
}

export function registerData(program: Command): void {
  const data = program.command('data').description('inspect corpora and generate the default one');

  data
    .command('stats')
    .description('clusters per task, documents per cluster, token lengths and problems of a corpus')
    .argument('<paths...>', '.jsonl / .parquet / .txt / .md files, or folders of them')
    .option('--skip-bad', 'skip and count bad rows instead of stopping at the first', false)
    .option('--json', 'print the statistics as one JSON object', false)
    .option('--tokenizer <dir>', 'count tokens with this HF tokenizer folder (default: words)')
    .option('--seed <n>', 'seed of the task-routing split', intArg('--seed', { min: 0 }), 0)
    .option(
      '--text-document-chars <n>',
      'text folders: longest document, in characters (train: data.text.documentChars)',
      intArg('--text-document-chars', { min: 100 }),
      DEFAULT_TEXT_BOUNDS.documentChars,
    )
    .option(
      '--text-cluster-chars <n>',
      'text folders: longest cluster, in characters (train: data.text.clusterChars)',
      intArg('--text-cluster-chars', { min: 100 }),
      DEFAULT_TEXT_BOUNDS.clusterChars,
    )
    .action(async (paths: string[], opts: StatsOptions) => {
      let countTokens: CountTokens = countWords;
      let tokenUnit = 'whitespace words (no --tokenizer given)';
      if (opts.tokenizer !== undefined) {
        const tok = loadTokenizer(opts.tokenizer);
        countTokens = (text) => tok.encode(text, { addSpecialTokens: false }).length;
        tokenUnit = `tokens of ${tok.dir}`;
      }
      const text = { documentChars: opts.textDocumentChars, clusterChars: opts.textClusterChars };
      const read = await readCorpus(paths, { skipBad: opts.skipBad, text });
      const stats = corpusStats(read, {
        routing: DEFAULT_ROUTING,
        seed: opts.seed,
        countTokens,
        tokenUnit,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(stats)}\n` : `${formatStats(stats)}\n`);
    });

  data
    .command('synth')
    .description('write the synthetic corpus: train.jsonl, held-out eval.jsonl, manifest.json')
    .requiredOption('--out <dir>', 'output folder (created if missing)')
    .option(
      '--seed <n>',
      'generator seed',
      intArg('--seed', { min: 0 }),
      DEFAULT_SYNTH_OPTIONS.seed,
    )
    .option(
      '--clusters <n>',
      'training clusters in total (split across docmath, qa, mc)',
      intArg('--clusters', { min: 0 }),
      DEFAULT_SYNTH_OPTIONS.clusters,
    )
    .option(
      '--eval-per-task <n>',
      'held-out questions per task',
      intArg('--eval-per-task', { min: 0 }),
      DEFAULT_SYNTH_OPTIONS.evalPerTask,
    )
    .action((opts: SynthCliOptions) => {
      const files = writeSynthCorpus(opts.out, {
        seed: opts.seed,
        clusters: opts.clusters,
        evalPerTask: opts.evalPerTask,
      });
      const manifest = JSON.parse(files['manifest.json']) as {
        train: { clusters: number };
        eval: { questions: number };
      };
      process.stdout.write(
        `wrote ${opts.out}: ${manifest.train.clusters} training clusters, ${manifest.eval.questions} held-out questions (seed ${opts.seed})\n`,
      );
    });
  registerDataLabeled(data);
}

/**
 * `spell data labeled`: labeled questions about the TRAINING clusters of the synthetic generator
 * (never the held-out set), in the evaluation layout — the fixed labeled set of the static-RLVR
 * control (`spell train mode=rlvr`).
 */
export function registerDataLabeled(data: Command): void {
  data
    .command('labeled')
    .description('write labeled questions about the synthetic TRAINING clusters (for mode=rlvr)')
    .requiredOption('--out <file>', 'output JSONL file')
    .option(
      '--seed <n>',
      'generator seed',
      intArg('--seed', { min: 0 }),
      DEFAULT_SYNTH_OPTIONS.seed,
    )
    .option(
      '--per-task <n>',
      'clusters per task (one question each)',
      intArg('--per-task', { min: 0 }),
      100,
    )
    .action((opts: { out: string; seed: number; perTask: number }) => {
      const clusters = trainingClusters(
        { ...DEFAULT_SYNTH_OPTIONS, seed: opts.seed },
        opts.perTask,
      );
      const rows = clusters.map((c, i) => {
        const q = c.questions[i % c.questions.length];
        return {
          id: `labeled-${c.id}`,
          task: c.task,
          kind: q.kind,
          documents: c.documents,
          question: q.question,
          ...(q.options === undefined
            ? {}
            : { options: { A: q.options[0], B: q.options[1], C: q.options[2], D: q.options[3] } }),
          answer: q.answer,
          evidence: q.evidence,
        };
      });
      writeFileAtomic(opts.out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      process.stdout.write(`wrote ${opts.out}: ${rows.length} labeled training questions\n`);
    });
}
