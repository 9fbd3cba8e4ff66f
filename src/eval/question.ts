/**
 * One evaluation question, as every loader produces it: the task it belongs to, the rule-check
 * kind, the document text and question exactly as the prompt template receives them, and the
 * ground truth as the reference scorer sees it (`str(gt)` in Python terms).
 */
import type { Task } from '../spell/task.ts';

export interface EvalQuestion {
  /** Task key, e.g. `frames` or `longbench-v2` (paper) or `qa` (synthetic). */
  readonly task: string;
  /** DocMath sub-domain, the LongBench-v2 `domain`, or the task key. */
  readonly subTask: string;
  /** Question id, unique within the task (the reference code's id scheme). */
  readonly id: string;
  /** Which rule check and prompt template apply. */
  readonly kind: Task;
  /** The document text substituted into the template (stripped by the template filler). */
  readonly context: string;
  /** The question text; for `mc` the full question block with the four choices. */
  readonly question: string;
  /** The ground truth as a string: a Python-style float for DocMath, an answer, or a letter. */
  readonly answer: string;
}
