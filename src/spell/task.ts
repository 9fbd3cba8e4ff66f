/**
 * The three SPELL tasks. Internally spell uses short names; the reference code's names
 * (`docmath_qa`, `doc_general_qa`, `doc_mc`) are accepted wherever data or configs name a task.
 */

/** docmath: numeric financial QA; qa: free-form multi-hop QA; mc: 4-option multiple choice. */
export type Task = 'docmath' | 'qa' | 'mc';

export const TASKS: readonly Task[] = ['docmath', 'qa', 'mc'];

/** The reference implementation's task names, for metrics and data compatibility. */
export const REFERENCE_TASK_NAME: Readonly<Record<Task, string>> = {
  docmath: 'docmath_qa',
  qa: 'doc_general_qa',
  mc: 'doc_mc',
};

/** Parse a task name in either spelling; returns undefined when it is not a task. */
export function parseTask(name: string): Task | undefined {
  const n = name.trim();
  if (n === 'docmath' || n === 'docmath_qa') return 'docmath';
  if (n === 'qa' || n === 'doc_general_qa' || n === 'general_qa') return 'qa';
  if (n === 'mc' || n === 'doc_mc') return 'mc';
  return undefined;
}
