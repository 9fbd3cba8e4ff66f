/**
 * One evaluation run: for every (question, sample) not yet in the results file, build the final
 * prompt (template, chat template, middle truncation), sample one completion with its own seed,
 * rule-score it, ask the judge when needed, and append the record at once. Samples whose judge
 * call failed (or that were made before a judge was configured) are re-judged on resume without
 * new generations. Requests run concurrently up to a limit; the engines retry transient errors.
 *
 * Generation failures after retries are counted and reported; the missing samples are what a
 * `--resume` run picks up. Nothing here prints: progress goes to a callback.
 */
import { createHash } from 'node:crypto';
import { describeError } from '../core/errors.ts';
import type { ChatEngine } from '../engine/chat.ts';
import { runJudge, type JudgeOutcome } from './judge.ts';
import type { PromptSource, FinalPrompt } from './prompt-source.ts';
import { evalPrompt, judgeQuestion } from './prompts.ts';
import type { EvalQuestion } from './question.ts';
import { sampleKey, type JudgeRecord, type SampleRecord } from './record.ts';
import { needsJudge, scoreSample } from './score.ts';
import type { ResultsWriter } from './store.ts';

/** Sampling settings (spell-eval.md §5). */
export interface SamplingSettings {
  readonly temperature: number;
  readonly topP: number;
  readonly maxTokens: number;
  /** Sample j uses seed + j (distinct seeds, B6), or `seed` for all when `sharedSeed`. */
  readonly seed: number;
  readonly sharedSeed: boolean;
}

/** Live counters for a progress display. */
export interface EvalProgress {
  readonly total: number;
  readonly done: number;
  readonly generated: number;
  readonly judged: number;
  readonly judgeFailures: number;
  readonly generationFailures: number;
  readonly completionTokens: number;
}

export interface EvalRunOptions {
  readonly engine: ChatEngine;
  readonly prompts: PromptSource;
  readonly judge?: { readonly engine: ChatEngine; readonly maxTokens?: number };
  readonly questions: readonly EvalQuestion[];
  readonly n: number;
  readonly maxInputLen: number;
  readonly sampling: SamplingSettings;
  readonly concurrency: number;
  readonly writer: ResultsWriter;
  /** Records already in the results file (resume). */
  readonly existing: ReadonlyMap<string, SampleRecord>;
  readonly onProgress?: (p: EvalProgress) => void;
}

export interface EvalRunResult {
  /** The records of this run's questions, in evaluation order (question, then sample index). */
  readonly records: SampleRecord[];
  /** Those plus records of questions not in this run (other tasks), for compaction. */
  readonly allRecords: SampleRecord[];
  readonly generationFailures: number;
  /** The first few generation errors, for the report. */
  readonly errors: string[];
}

type WorkItem =
  | { readonly kind: 'generate'; readonly q: number; readonly sample: number }
  | { readonly kind: 'rejudge'; readonly q: number; readonly record: SampleRecord };

async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function judgeRecord(outcome: JudgeOutcome, model: string): JudgeRecord {
  return outcome.status === 'ok'
    ? {
        status: 'ok',
        score: outcome.score,
        verdict: outcome.verdict,
        strictScore: outcome.strictScore,
        output: outcome.output,
        attempts: outcome.attempts,
        model,
      }
    : { status: 'failed', error: outcome.error, attempts: outcome.attempts, model };
}

/**
 * Run (or resume) the evaluation.
 * @example const { records } = await runEval({ engine, prompts, questions, n: 8, ... });
 */
export async function runEval(opts: EvalRunOptions): Promise<EvalRunResult> {
  const { questions, n, existing } = opts;
  const records = new Map(existing);
  const work: WorkItem[] = [];
  const pendingPerQuestion = new Array<number>(questions.length).fill(0);
  questions.forEach((q, qi) => {
    for (let j = 0; j < n; j++) {
      const rec = records.get(sampleKey(q.task, q.id, j));
      if (rec === undefined) {
        work.push({ kind: 'generate', q: qi, sample: j });
        pendingPerQuestion[qi]++;
      } else if (
        opts.judge &&
        rec.needsJudge &&
        (rec.judge === null || rec.judge.status === 'failed')
      ) {
        work.push({ kind: 'rejudge', q: qi, record: rec });
      }
    }
  });

  const progress = {
    total: work.length,
    done: 0,
    generated: 0,
    judged: 0,
    judgeFailures: 0,
    generationFailures: 0,
    completionTokens: 0,
  };
  const errors: string[] = [];
  const report = (): void => opts.onProgress?.({ ...progress });
  report();

  // Each question's prompt is built once and shared by its samples, then released.
  const prompts = new Map<number, Promise<FinalPrompt>>();
  const promptFor = (qi: number): Promise<FinalPrompt> => {
    let p = prompts.get(qi);
    if (p === undefined) {
      const q = questions[qi];
      p = opts.prompts.build(evalPrompt(q.kind, q.context, q.question), opts.maxInputLen);
      prompts.set(qi, p);
    }
    return p;
  };

  const judge = async (q: EvalQuestion, rec: SampleRecord): Promise<JudgeRecord | null> => {
    if (!opts.judge || !rec.needsJudge) return null;
    const outcome = await runJudge(
      {
        engine: opts.judge.engine,
        ...(opts.judge.maxTokens ? { maxTokens: opts.judge.maxTokens } : {}),
      },
      rec.judgeQuestion,
      rec.pred ?? 'None',
      q.answer,
    );
    progress.judged++;
    if (outcome.status === 'failed') progress.judgeFailures++;
    return judgeRecord(outcome, opts.judge.engine.model);
  };

  const generate = async (qi: number, sample: number): Promise<void> => {
    const q = questions[qi];
    try {
      const prompt = await promptFor(qi);
      const seed = opts.sampling.sharedSeed ? opts.sampling.seed : opts.sampling.seed + sample;
      const res = await opts.engine.complete(prompt.text, {
        n: 1,
        temperature: opts.sampling.temperature,
        topP: opts.sampling.topP,
        maxTokens: opts.sampling.maxTokens,
        seed,
      });
      const choice = res.choices[0];
      const completionTokens = res.usage?.completionTokens ?? null;
      if (completionTokens !== null) progress.completionTokens += completionTokens;
      progress.generated++;
      const score = scoreSample(q.kind, choice.text, q.answer);
      const base: SampleRecord = {
        task: q.task,
        subTask: q.subTask,
        id: q.id,
        sample,
        seed,
        answer: q.answer,
        promptSha256: createHash('sha256').update(prompt.text).digest('hex'),
        promptTokens: prompt.tokens,
        promptTokensOriginal: prompt.originalTokens,
        truncated: prompt.truncated,
        response: choice.text,
        finishReason: choice.finishReason,
        completionTokens,
        region: score.region,
        pred: score.pred,
        ruleAsCoded: score.rule['as-coded'],
        ruleAsDescribed: score.rule['as-described'],
        ...(score.qa ? { qa: score.qa } : {}),
        needsJudge: needsJudge(q.kind, score),
        judge: null,
        judgeQuestion: judgeQuestion(prompt.text, q.question),
      };
      const record: SampleRecord = { ...base, judge: await judge(q, base) };
      records.set(sampleKey(q.task, q.id, sample), record);
      opts.writer.append(record);
    } catch (err) {
      progress.generationFailures++;
      if (errors.length < 5)
        errors.push(`${q.task} ${q.id} sample ${sample}: ${describeError(err)}`);
    } finally {
      if (--pendingPerQuestion[qi] === 0) prompts.delete(qi);
    }
  };

  await pool(work, opts.concurrency, async (item) => {
    if (item.kind === 'generate') {
      await generate(item.q, item.sample);
    } else {
      const q = questions[item.q];
      const record: SampleRecord = { ...item.record, judge: await judge(q, item.record) };
      records.set(sampleKey(record.task, record.id, record.sample), record);
      opts.writer.append(record);
    }
    progress.done++;
    report();
  });

  const ordered: SampleRecord[] = [];
  const emitted = new Set<string>();
  for (const q of questions) {
    for (let j = 0; j < n; j++) {
      const key = sampleKey(q.task, q.id, j);
      const r = records.get(key);
      if (r) {
        ordered.push(r);
        emitted.add(key);
      }
    }
  }
  const others = [...records].filter(([k]) => !emitted.has(k)).map(([, r]) => r);
  return {
    records: ordered,
    allRecords: [...ordered, ...others],
    generationFailures: progress.generationFailures,
    errors,
  };
}
