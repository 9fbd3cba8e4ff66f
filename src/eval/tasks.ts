/**
 * The evaluation tasks: the paper's six long-context benchmarks (suite `paper`) and the bundled
 * synthetic held-out set (suite `synthetic`). Each task names the rule check it uses (`kind`),
 * the order the reference code evaluates in, and the published question count, so a loader can
 * warn when a local copy is not the paper's version.
 */
import type { Task } from '../spell/task.ts';

/** The two suites: the paper's benchmarks from local files, or the bundled synthetic set. */
export type Suite = 'paper' | 'synthetic';

export const SUITES: readonly Suite[] = ['paper', 'synthetic'];

/** The paper's benchmark keys, in the reference code's default order. */
export const PAPER_TASKS = [
  'docmath',
  'frames',
  '2wikimqa',
  'hotpotqa',
  'musique',
  'longbench-v2',
] as const;

export type PaperTask = (typeof PAPER_TASKS)[number];

/** The synthetic suite's tasks (the SPELL task names of the bundled corpus). */
export const SYNTHETIC_TASKS = ['docmath', 'qa', 'mc'] as const;

/** How a paper task is scored (which rule check and prompt template it uses). */
export const PAPER_TASK_KIND: Readonly<Record<PaperTask, Task>> = {
  docmath: 'docmath',
  frames: 'qa',
  '2wikimqa': 'qa',
  hotpotqa: 'qa',
  musique: 'qa',
  'longbench-v2': 'mc',
};

/** Question counts of the paper's versions (spell-eval.md §2). */
export const PAPER_TASK_SIZE: Readonly<Record<PaperTask, number>> = {
  docmath: 800,
  frames: 824,
  '2wikimqa': 200,
  hotpotqa: 200,
  musique: 200,
  'longbench-v2': 503,
};

/** The LongBench v1 QA tasks the paper averages into its LB-MQA column. */
export const LB_MQA_TASKS: readonly PaperTask[] = ['2wikimqa', 'hotpotqa', 'musique'];

/** The task list of a suite, in evaluation order. */
export function suiteTasks(suite: Suite): readonly string[] {
  return suite === 'paper' ? PAPER_TASKS : SYNTHETIC_TASKS;
}

/** The rule-check kind of a task in a suite, or undefined when the suite has no such task. */
export function taskKind(suite: Suite, task: string): Task | undefined {
  if (suite === 'paper') {
    return (PAPER_TASKS as readonly string[]).includes(task)
      ? PAPER_TASK_KIND[task as PaperTask]
      : undefined;
  }
  return (SYNTHETIC_TASKS as readonly string[]).includes(task) ? (task as Task) : undefined;
}
