/**
 * Question selection for a run: the suite's tasks (or a chosen subset, validated), loaded from the
 * data folder or the bundled synthetic set, optionally the first `limit` questions of each task.
 */
import { ConfigurationError } from '../core/errors.ts';
import { loadPaperTask } from './load/benchmarks.ts';
import { loadSynthetic } from './load/synthetic.ts';
import type { EvalQuestion } from './question.ts';
import { PAPER_TASK_SIZE, suiteTasks, taskKind, type PaperTask, type Suite } from './tasks.ts';

export interface QuestionSelection {
  readonly suite: Suite;
  /** Required for the paper suite; optional corpus folder or eval.jsonl for the synthetic one. */
  readonly dataDir?: string;
  /** Subset of the suite's tasks; default all, in the suite's order. */
  readonly tasks?: readonly string[];
  /** First N questions per task (smoke runs). */
  readonly limit?: number;
}

export interface LoadedQuestions {
  readonly tasks: string[];
  readonly questions: EvalQuestion[];
  /** Notes for the user, e.g. a task whose size differs from the paper's version. */
  readonly warnings: string[];
}

/**
 * Resolve the task list and load the questions.
 * @throws ConfigurationError for an unknown task or a paper suite without a data folder
 * @throws DataError for missing or malformed benchmark files
 */
export async function selectQuestions(sel: QuestionSelection): Promise<LoadedQuestions> {
  const all = suiteTasks(sel.suite);
  const tasks = sel.tasks && sel.tasks.length > 0 ? [...sel.tasks] : [...all];
  for (const t of tasks) {
    if (taskKind(sel.suite, t) === undefined) {
      throw new ConfigurationError(
        `unknown task "${t}" for suite ${sel.suite} (expected some of: ${all.join(', ')})`,
      );
    }
  }
  tasks.sort((a, b) => all.indexOf(a) - all.indexOf(b));
  const warnings: string[] = [];
  let byTask: EvalQuestion[][];
  if (sel.suite === 'synthetic') {
    const loaded = loadSynthetic(sel.dataDir);
    byTask = tasks.map((t) => loaded.filter((q) => q.task === t));
  } else {
    if (sel.dataDir === undefined) {
      throw new ConfigurationError(
        'the paper suite needs --data-dir <folder with the benchmark files> (or use --suite synthetic)',
      );
    }
    const dataDir = sel.dataDir;
    byTask = [];
    for (const t of tasks) {
      const qs = await loadPaperTask(dataDir, t as PaperTask);
      const want = PAPER_TASK_SIZE[t as PaperTask];
      if (qs.length !== want) {
        warnings.push(`${t}: ${qs.length} questions, the paper's version has ${want}`);
      }
      byTask.push(qs);
    }
  }
  const questions = byTask.flatMap((qs) => (sel.limit === undefined ? qs : qs.slice(0, sel.limit)));
  return { tasks, questions, warnings };
}
