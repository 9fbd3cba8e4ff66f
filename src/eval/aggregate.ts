/**
 * Aggregation of sample records into per-task and overall numbers (spell-eval.md §9–11):
 * per sample total = max(rule, judge) in the chosen scoring mode; per question avg@n and pass@k;
 * per task the unweighted mean over questions (DocMath's sub-domains pooled); overall both the
 * paper's Table 1 average (DocMath, Frames, LB-MQA = mean of the three LongBench QA tasks, LB-V2)
 * and the released code's plain task mean (B8). Questions with fewer than n samples are left out
 * and counted, never silently averaged. Judge failures score 0 for the judge side and are counted
 * in the summary. Pure and synchronous.
 */
import { bootstrapBestOfK, passAtK, referenceKs } from './passk.ts';
import type { SampleRecord } from './record.ts';
import { finalScore, type ScoringMode } from './score.ts';
import { LB_MQA_TASKS, type Suite } from './tasks.ts';

/** Judge bookkeeping for one task. */
export interface JudgeStats {
  /** Samples the judge must see (non-MC with rule score below 1). */
  readonly needed: number;
  /** Of those, judged successfully. */
  readonly ok: number;
  /** Failed after retries (scored 0 on the judge side, listed here). */
  readonly failed: number;
  /** Never sent (no judge endpoint configured). */
  readonly notRun: number;
  /** Successful replies the reference parser read as INVALID (neither YES nor NO). */
  readonly invalid: number;
  /** Replies where the reference parser and the `[[YES]]`/`[[NO]]` reading disagree (B10). */
  readonly parserDisagreements: number;
}

export interface TaskSummary {
  readonly task: string;
  readonly questions: number;
  /** Questions with all n samples (the ones the metrics cover). */
  readonly complete: number;
  readonly samples: number;
  /** avg@n of the final score (the paper's "pass@1" / Table 1 value), a fraction in [0, 1]. */
  readonly avg: number;
  /**
   * Standard error of `avg` over questions: the sample standard deviation of the per-question
   * avg@n divided by √questions (0 with fewer than two questions).
   */
  readonly avgStderr: number;
  /** Mean rule score, mean judge score (0 where not judged), and QA EM / F1 where defined. */
  readonly rule: number;
  readonly llm: number;
  readonly em?: number;
  readonly f1?: number;
  /** Unbiased pass@k for k = 1..n (index k−1). */
  readonly passAtK: number[];
  /** The released code's bootstrap best@k (k → value), as-coded mode only. */
  readonly bootstrapPassAtK?: Readonly<Record<string, number>>;
  readonly judge: JudgeStats;
  /** Fraction of samples whose prompt was middle-truncated. */
  readonly truncatedRate: number;
  /** Fraction with no parsed answer (pred null). */
  readonly noAnswerRate: number;
  /** Fraction that stopped at the token cap. */
  readonly lengthStopRate: number;
}

/** The paper's four columns and their mean (fractions). */
export interface PaperAverage {
  readonly docmath: number;
  readonly frames: number;
  readonly lbMqa: number;
  readonly lbV2: number;
  readonly avg: number;
}

export interface AggregateResult {
  readonly mode: ScoringMode;
  readonly n: number;
  readonly tasks: TaskSummary[];
  /** Unweighted mean over the tasks present (the released code's "overall"). */
  readonly taskMean: number;
  /** Standard error of `taskMean` (tasks are independent question sets: √Σse² / tasks). */
  readonly taskMeanStderr: number;
  /** Paper Table 1 average; only when all six paper tasks are present. */
  readonly paperAverage?: PaperAverage;
  /** The paper-average formula applied to pass@k, k = 1..n (when paperAverage is defined). */
  readonly paperAveragePassAtK?: number[];
  /** Task-mean pass@k, k = 1..n. */
  readonly taskMeanPassAtK: number[];
}

const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;

/** Standard error of the mean of xs (sample standard deviation / √n; 0 when n < 2). */
export function stderrOfMean(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const m = mean(xs);
  const ss = xs.reduce((a, x) => a + (x - m) * (x - m), 0);
  return Math.sqrt(ss / (n - 1) / n);
}

function judgeScore(r: SampleRecord): number | null {
  return r.judge?.status === 'ok' ? r.judge.score : null;
}

/** The final score of one record in a mode: max(rule, judge). */
export function recordTotal(r: SampleRecord, mode: ScoringMode): number {
  return finalScore(mode === 'as-coded' ? r.ruleAsCoded : r.ruleAsDescribed, judgeScore(r));
}

function summariseTask(
  task: string,
  records: readonly SampleRecord[],
  n: number,
  mode: ScoringMode,
): TaskSummary {
  const byQuestion = new Map<string, SampleRecord[]>();
  for (const r of records) {
    const list = byQuestion.get(r.id) ?? [];
    list.push(r);
    byQuestion.set(r.id, list);
  }
  const avgs: number[] = [];
  const passes: number[][] = Array.from({ length: n }, () => []);
  const boots = new Map<number, number[]>();
  const ks = referenceKs(n);
  for (const list of byQuestion.values()) {
    if (list.length < n) continue;
    // Sort by sample index so the bootstrap does not depend on completion order (B23).
    const totals = [...list]
      .sort((a, b) => a.sample - b.sample)
      .slice(0, n)
      .map((r) => recordTotal(r, mode));
    avgs.push(mean(totals));
    const c = totals.filter((t) => t >= 1).length;
    for (let k = 1; k <= n; k++) passes[k - 1].push(passAtK(n, c, k));
    if (mode === 'as-coded') {
      for (const k of ks) {
        const acc = boots.get(k) ?? [];
        acc.push(bootstrapBestOfK(totals, k).mean);
        boots.set(k, acc);
      }
    }
  }
  const qa = records.filter((r) => r.qa !== undefined);
  const needed = records.filter((r) => r.needsJudge);
  const ok = needed.filter((r) => r.judge?.status === 'ok');
  const bootstrap: Record<string, number> = {};
  for (const [k, vals] of boots) bootstrap[String(k)] = mean(vals);
  return {
    task,
    questions: byQuestion.size,
    complete: avgs.length,
    samples: records.length,
    avg: mean(avgs),
    avgStderr: stderrOfMean(avgs),
    rule: mean(records.map((r) => (mode === 'as-coded' ? r.ruleAsCoded : r.ruleAsDescribed))),
    llm: mean(records.map((r) => judgeScore(r) ?? 0)),
    ...(qa.length > 0
      ? { em: mean(qa.map((r) => r.qa?.em ?? 0)), f1: mean(qa.map((r) => r.qa?.f1 ?? 0)) }
      : {}),
    passAtK: passes.map(mean),
    ...(mode === 'as-coded' ? { bootstrapPassAtK: bootstrap } : {}),
    judge: {
      needed: needed.length,
      ok: ok.length,
      failed: needed.filter((r) => r.judge?.status === 'failed').length,
      notRun: needed.filter((r) => r.judge === null).length,
      invalid: ok.filter((r) => r.judge?.status === 'ok' && r.judge.verdict === 'INVALID').length,
      parserDisagreements: ok.filter(
        (r) => r.judge?.status === 'ok' && (r.judge.strictScore ?? 0) !== r.judge.score,
      ).length,
    },
    truncatedRate: mean(records.map((r) => (r.truncated ? 1 : 0))),
    noAnswerRate: mean(records.map((r) => (r.pred === null ? 1 : 0))),
    lengthStopRate: mean(records.map((r) => (r.finishReason === 'length' ? 1 : 0))),
  };
}

/**
 * Aggregate records of the given tasks (in that order).
 * @example aggregate(records, ['docmath', 'qa', 'mc'], 8, 'as-described', 'synthetic').taskMean
 */
export function aggregate(
  records: readonly SampleRecord[],
  tasks: readonly string[],
  n: number,
  mode: ScoringMode,
  suite: Suite,
): AggregateResult {
  const summaries = tasks.map((t) =>
    summariseTask(
      t,
      records.filter((r) => r.task === t),
      n,
      mode,
    ),
  );
  const byTask = new Map(summaries.map((s) => [s.task, s]));
  const taskMeanPassAtK = Array.from({ length: n }, (_, i) =>
    mean(summaries.map((s) => s.passAtK[i])),
  );
  const result: AggregateResult = {
    mode,
    n,
    tasks: summaries,
    taskMean: mean(summaries.map((s) => s.avg)),
    taskMeanStderr:
      summaries.length === 0
        ? 0
        : Math.sqrt(summaries.reduce((a, s) => a + s.avgStderr * s.avgStderr, 0)) /
          summaries.length,
    taskMeanPassAtK,
  };
  const six = ['docmath', 'frames', ...LB_MQA_TASKS, 'longbench-v2'];
  if (suite !== 'paper' || !six.every((t) => byTask.has(t))) return result;
  const get = (t: string): TaskSummary => byTask.get(t) as TaskSummary;
  const paperOf = (value: (s: TaskSummary) => number): PaperAverage => {
    const lbMqa = mean(LB_MQA_TASKS.map((t) => value(get(t))));
    const cols = [value(get('docmath')), value(get('frames')), lbMqa, value(get('longbench-v2'))];
    return { docmath: cols[0], frames: cols[1], lbMqa, lbV2: cols[3], avg: mean(cols) };
  };
  return {
    ...result,
    paperAverage: paperOf((s) => s.avg),
    paperAveragePassAtK: Array.from({ length: n }, (_, i) => paperOf((s) => s.passAtK[i]).avg),
  };
}
