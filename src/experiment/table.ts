/**
 * The miniature experiment's results table: reads `eval-<arm>/summary.json` (from `spell eval`)
 * and the arms' training metrics, and writes `results.md` + `results.json` — accuracy per task
 * (avg@n), pass@k, and the training steps each arm got — and `results.html`, the plots (plots.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError, DataError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/atomic.ts';
import { pairedDifference, readQuestionScores, type PairedResult } from './paired.ts';
import { renderExperimentPlots } from './plots.ts';

interface TaskRow {
  readonly task: string;
  readonly avg: number;
  /** Absent in summaries written before standard errors were reported. */
  readonly avgStderr?: number;
  readonly passAtK: readonly number[];
  readonly complete: number;
}

interface ArmResult {
  readonly arm: string;
  readonly n: number;
  readonly tasks: readonly TaskRow[];
  readonly taskMean: number;
  readonly taskMeanStderr?: number;
  readonly steps: number | null;
}

function readArm(outDir: string, arm: string): ArmResult {
  const file = join(outDir, `eval-${arm}`, 'summary.json');
  if (!existsSync(file))
    throw new DataError(`${file} is missing: run spell eval for arm "${arm}" first`, { file });
  const s = JSON.parse(readFileSync(file, 'utf8')) as {
    n?: unknown;
    result?: { tasks?: unknown; taskMean?: unknown; taskMeanStderr?: unknown };
  };
  const tasks = s.result?.tasks;
  if (!Array.isArray(tasks) || typeof s.n !== 'number' || typeof s.result?.taskMean !== 'number') {
    throw new DataError(
      `${file} is not a spell eval summary (expected n, result.tasks, result.taskMean)`,
      { file },
    );
  }
  const metrics = join(outDir, arm, 'metrics.jsonl');
  const steps = existsSync(metrics)
    ? readFileSync(metrics, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '').length
    : null;
  return {
    arm,
    n: s.n,
    tasks: (tasks as TaskRow[]).map((t) => ({
      task: t.task,
      avg: t.avg,
      ...(typeof t.avgStderr === 'number' ? { avgStderr: t.avgStderr } : {}),
      passAtK: t.passAtK,
      complete: t.complete,
    })),
    taskMean: s.result.taskMean,
    ...(typeof s.result.taskMeanStderr === 'number'
      ? { taskMeanStderr: s.result.taskMeanStderr }
      : {}),
    steps,
  };
}

const pct = (x: number | undefined): string => (x === undefined ? '-' : (100 * x).toFixed(1));
/** A percentage with its standard error when the summary has one. */
const pctSe = (x: number | undefined, se: number | undefined): string =>
  se === undefined ? pct(x) : `${pct(x)} ± ${pct(se)}`;

/** A signed percentage difference with its standard error. */
const signedPctSe = (p: PairedResult): string =>
  `${p.mean >= 0 ? '+' : ''}${pct(p.mean)} ± ${pct(p.meanStderr)}`;

export interface TableOptions {
  /** Add each arm's paired difference against this arm (which must be among the arms). */
  readonly pairedWith?: string;
}

/** Write results.md and results.json for the given arms; returns the markdown. */
export function writeExperimentTable(
  outDir: string,
  arms: readonly string[],
  opts: TableOptions = {},
): string {
  const ref = opts.pairedWith;
  if (ref !== undefined && !arms.includes(ref)) {
    throw new ConfigurationError(`--paired-with ${ref}: not one of the arms (${arms.join(', ')})`);
  }
  const refScores = ref === undefined ? undefined : readQuestionScores(outDir, ref);
  const results = arms.map((a) => {
    const r = readArm(outDir, a);
    if (refScores === undefined || a === ref) return r;
    return {
      ...r,
      paired: pairedDifference(readQuestionScores(outDir, a), refScores, ref as string),
    };
  });
  const tasks = [...new Set(results.flatMap((r) => r.tasks.map((t) => t.task)))];
  const n = Math.max(...results.map((r) => r.n));
  const head = [
    'arm',
    'training steps',
    ...tasks.map((t) => `${t} avg@${n}`),
    'mean avg',
    `mean pass@${n}`,
    ...(ref === undefined ? [] : [`paired vs ${ref}`]),
  ];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...results.map((r) => {
      const byTask = new Map(r.tasks.map((t) => [t.task, t]));
      const passN =
        r.tasks.length === 0
          ? undefined
          : r.tasks.reduce((s, t) => s + (t.passAtK[t.passAtK.length - 1] ?? 0), 0) /
            r.tasks.length;
      return `| ${[r.arm, r.steps ?? '-', ...tasks.map((t) => pctSe(byTask.get(t)?.avg, byTask.get(t)?.avgStderr)), pctSe(r.taskMean, r.taskMeanStderr), pct(passN), ...(ref === undefined ? [] : ['paired' in r ? signedPctSe(r.paired) : '–'])].join(' | ')} |`;
    }),
  ];
  const questions = results[0]?.tasks.map((t) => `${t.task} ${t.complete}`).join(', ') ?? '';
  const pairedNote =
    ref === undefined
      ? ''
      : ` "paired vs ${ref}" is the mean over questions both arms answered of (arm − ${ref}) avg@n, per task then averaged over tasks, ± its standard error.`;
  const md = `# SPELL in miniature\n\nHeld-out synthetic questions (${questions}; ${n} samples each), percent; ± one standard error over questions where the evaluation reported it.${pairedNote}\n\n${lines.join('\n')}\n`;
  writeFileAtomic(join(outDir, 'results.md'), md);
  writeFileAtomic(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileAtomic(join(outDir, 'results.html'), renderExperimentPlots(outDir, arms));
  return md;
}
