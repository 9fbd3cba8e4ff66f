/**
 * What the responder reads: each held-out answer classified by where its value comes from.
 *
 * The synthetic questions say which documents hold the evidence, so a wrong answer can be told
 * apart: a value copied from an evidence document (the right place, the wrong span or step), one
 * copied from another document of the cluster (a distractor), or one found in no document (a
 * guess, or for docmath a computed value that is wrong). A model that reads should move answers
 * from "absent" and "distractor" towards "correct"; a policy that games the reward would show up
 * as a rise in one constant answer instead. Pure: records in, counts out.
 */
import type { Task } from '../spell/task.ts';
import { normalizeAnswer } from '../text/normalize.ts';

/** Where a sample's answer comes from. */
export const READING_CLASSES = [
  'correct',
  'evidence',
  'distractor',
  'absent',
  'no_answer',
] as const;
export type ReadingClass = (typeof READING_CLASSES)[number];

/** A held-out question as the synthetic eval file gives it. */
export interface ReadingQuestion {
  readonly task: Task;
  readonly documents: readonly string[];
  readonly evidence: readonly number[];
  readonly options?: Readonly<Record<string, string>>;
}

/** One evaluated sample: the parsed answer (null: none) and whether the rule scored it right. */
export interface ReadingSample {
  readonly pred: string | null;
  readonly correct: boolean;
}

/** The text to look for in the documents: mc answers stand for their option's text. */
function lookedFor(q: ReadingQuestion, pred: string): string | null {
  if (q.task !== 'mc') return pred;
  const letter = pred.trim().toUpperCase();
  return q.options?.[letter] ?? null;
}

/** Whether `needle` occurs in `doc`: SQuAD-normalised words, or a number as printed. */
function occursIn(task: Task, doc: string, needle: string): boolean {
  if (task === 'docmath') {
    const n = Number(needle.replace(/,/g, ''));
    if (!Number.isFinite(n)) return false;
    const printed = doc.match(/-?\d[\d,]*(?:\.\d+)?/g) ?? [];
    return printed.some((p) => Number(p.replace(/,/g, '')) === n);
  }
  const want = normalizeAnswer(needle);
  if (want === '') return false;
  return ` ${normalizeAnswer(doc)} `.includes(` ${want} `);
}

/** Classify one sample of one question. */
export function classifyReading(q: ReadingQuestion, s: ReadingSample): ReadingClass {
  if (s.correct) return 'correct';
  if (s.pred === null || s.pred.trim() === '') return 'no_answer';
  const needle = lookedFor(q, s.pred);
  if (needle === null) return 'absent';
  const inEvidence = q.evidence.some((i) => {
    const doc = q.documents[i];
    return doc !== undefined && occursIn(q.task, doc, needle);
  });
  if (inEvidence) return 'evidence';
  const elsewhere = q.documents.some(
    (doc, i) => !q.evidence.includes(i) && occursIn(q.task, doc, needle),
  );
  return elsewhere ? 'distractor' : 'absent';
}

/** Per task: the share of samples in each class, the samples counted, and the commonest answer. */
export interface ReadingRow {
  readonly task: string;
  readonly samples: number;
  readonly shares: Readonly<Record<ReadingClass, number>>;
  /** The most frequent normalised answer and its share of the task's samples (collapse check). */
  readonly topAnswer: { readonly answer: string; readonly share: number } | null;
}

/** Tally classified samples per task (tasks in first-seen order). */
export function readingTable(
  items: readonly {
    readonly task: string;
    readonly cls: ReadingClass;
    readonly pred: string | null;
  }[],
): ReadingRow[] {
  const tasks = [...new Set(items.map((i) => i.task))];
  return tasks.map((task) => {
    const mine = items.filter((i) => i.task === task);
    const counts = Object.fromEntries(READING_CLASSES.map((c) => [c, 0])) as Record<
      ReadingClass,
      number
    >;
    const answers = new Map<string, number>();
    for (const i of mine) {
      counts[i.cls]++;
      if (i.pred !== null && i.pred.trim() !== '') {
        const key = normalizeAnswer(i.pred) || i.pred.trim();
        answers.set(key, (answers.get(key) ?? 0) + 1);
      }
    }
    const shares = Object.fromEntries(
      READING_CLASSES.map((c) => [c, mine.length === 0 ? 0 : counts[c] / mine.length]),
    ) as Record<ReadingClass, number>;
    let top: ReadingRow['topAnswer'] = null;
    for (const [answer, n] of answers) {
      if (top === null || n / mine.length > top.share) top = { answer, share: n / mine.length };
    }
    return { task, samples: mine.length, shares, topAnswer: top };
  });
}
