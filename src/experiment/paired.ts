/**
 * Paired differences between two evaluated arms: per held-out question, arm's avg@n minus the
 * reference arm's, averaged over the questions both answered, with the standard error of that
 * mean. Two checkpoints of one model agree on most questions (the hard ones stay hard), so the
 * paired error is far smaller than the two arms' own errors combined — it is the figure that says
 * whether training moved accuracy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.ts';
import { recordTotal, stderrOfMean } from '../eval/aggregate.ts';
import { sampleRecordSchema } from '../eval/record.ts';

/** task → question id → avg@n over the question's samples. */
export type QuestionScores = ReadonlyMap<string, ReadonlyMap<string, number>>;

export interface PairedTask {
  readonly task: string;
  /** Questions both arms answered. */
  readonly questions: number;
  /** Mean over those questions of (arm − reference), as a fraction. */
  readonly diff: number;
  readonly stderr: number;
}

export interface PairedResult {
  readonly against: string;
  readonly tasks: readonly PairedTask[];
  /** Mean of the task differences (each task weighs the same, as in the table's task mean). */
  readonly mean: number;
  /** √Σse² / tasks, as the task mean's error. */
  readonly meanStderr: number;
}

/**
 * Paired difference of `arm` against `reference`, task by task, over the questions both have.
 * Tasks neither shares are left out. Pure.
 */
export function pairedDifference(
  arm: QuestionScores,
  reference: QuestionScores,
  against: string,
): PairedResult {
  const tasks: PairedTask[] = [];
  for (const [task, scores] of arm) {
    const ref = reference.get(task);
    if (ref === undefined) continue;
    const diffs: number[] = [];
    for (const [id, s] of scores) {
      const r = ref.get(id);
      if (r !== undefined) diffs.push(s - r);
    }
    if (diffs.length === 0) continue;
    tasks.push({
      task,
      questions: diffs.length,
      diff: diffs.reduce((a, b) => a + b, 0) / diffs.length,
      stderr: stderrOfMean(diffs),
    });
  }
  const k = tasks.length;
  return {
    against,
    tasks,
    mean: k === 0 ? 0 : tasks.reduce((s, t) => s + t.diff, 0) / k,
    meanStderr: k === 0 ? 0 : Math.sqrt(tasks.reduce((s, t) => s + t.stderr ** 2, 0)) / k,
  };
}

/**
 * Per-question avg@n of an evaluated arm (`eval-<arm>/samples.jsonl`), scored in the mode its
 * summary was written in; only questions with all n samples count, as in the summary.
 * @throws DataError naming the file (and line) when it is missing or not a spell eval result.
 */
export function readQuestionScores(outDir: string, arm: string): QuestionScores {
  const dir = join(outDir, `eval-${arm}`);
  const summaryFile = join(dir, 'summary.json');
  const samplesFile = join(dir, 'samples.jsonl');
  for (const f of [summaryFile, samplesFile]) {
    if (!existsSync(f)) {
      throw new DataError(`${f} is missing: run spell eval for arm "${arm}" first`, { file: f });
    }
  }
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
    n?: unknown;
    result?: { mode?: unknown };
  };
  const mode = summary.result?.mode;
  if (typeof summary.n !== 'number' || (mode !== 'as-coded' && mode !== 'as-described')) {
    throw new DataError(`${summaryFile} is not a spell eval summary (expected n, result.mode)`, {
      file: summaryFile,
    });
  }
  const n = summary.n;
  const totals = new Map<string, Map<string, number[]>>();
  readFileSync(samplesFile, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        json = undefined;
      }
      const parsed = sampleRecordSchema.safeParse(json);
      if (!parsed.success) {
        throw new DataError(`${samplesFile}:${i + 1} is not a spell eval sample record`, {
          file: samplesFile,
        });
      }
      const r = parsed.data;
      const byId = totals.get(r.task) ?? new Map<string, number[]>();
      totals.set(r.task, byId);
      const list = byId.get(r.id) ?? [];
      byId.set(r.id, list);
      if (r.sample < n) list[r.sample] = recordTotal(r, mode);
    });
  const out = new Map<string, Map<string, number>>();
  for (const [task, byId] of totals) {
    const scores = new Map<string, number>();
    for (const [id, list] of byId) {
      const complete = list.filter((x) => x !== undefined);
      if (complete.length === n) scores.set(id, complete.reduce((a, b) => a + b, 0) / n);
    }
    out.set(task, scores);
  }
  return out;
}
