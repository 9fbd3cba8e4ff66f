/**
 * The end-of-run summary, computed from the state records alone (so a resumed run's summary
 * covers the whole run): kept per task, the pass-rate histogram, mean documents per question,
 * rejection reasons, token usage per role and tokens (and optionally money) per kept question.
 * Pure; `formatSummary` renders it for the terminal.
 */
import { TASKS, type Task } from '../spell/task.ts';
import {
  REJECT_REASONS,
  ROLES,
  emptyUsage,
  type QuestionRecord,
  type RejectReason,
  type Role,
  type RoleUsage,
} from './record.ts';

/** Prices in currency units per million tokens, for the cost estimate. */
export interface Prices {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

export interface HistogramBin {
  /** Correct answers out of G. */
  readonly correct: number;
  readonly count: number;
  readonly kept: number;
}

export interface GenerateSummary {
  readonly slots: number;
  readonly kept: number;
  readonly rejected: number;
  readonly errors: number;
  readonly askedByTask: Readonly<Record<Task, number>>;
  readonly keptByTask: Readonly<Record<Task, number>>;
  readonly rejectReasons: Readonly<Record<RejectReason, number>>;
  /** Questions that reached the responders, by number of correct answers out of G. */
  readonly passRateHistogram: readonly HistogramBin[];
  readonly groupSize: number;
  /** Mean questioner documents over questions that reached the responders, and over kept ones. */
  readonly meanDocuments: { readonly answered: number | null; readonly kept: number | null };
  /** Share of kept questions whose prompt used the history memory. */
  readonly keptFromHistory: number;
  readonly usage: Readonly<Record<Role, RoleUsage>>;
  readonly totalTokens: number;
  readonly tokensPerKept: number | null;
  readonly costPerKept: number | null;
  readonly totalCost: number | null;
}

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;
}

function zeroByTask(): Record<Task, number> {
  return { docmath: 0, qa: 0, mc: 0 };
}

/**
 * Summarise the latest record of every slot.
 * @param groupSize G, for the histogram bins (0/G … G/G).
 */
export function summarise(
  records: readonly QuestionRecord[],
  groupSize: number,
  prices?: Prices,
): GenerateSummary {
  const askedByTask = zeroByTask();
  const keptByTask = zeroByTask();
  const rejectReasons = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<
    RejectReason,
    number
  >;
  const bins = Array.from({ length: groupSize + 1 }, (_, k) => ({ correct: k, count: 0, kept: 0 }));
  const usage = emptyUsage();
  const docsAnswered: number[] = [];
  const docsKept: number[] = [];
  let kept = 0;
  let rejected = 0;
  let errors = 0;
  let fromHistory = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  for (const r of records) {
    for (const role of ROLES) {
      const u = r.usage[role];
      usage[role].calls += u.calls;
      usage[role].promptTokens += u.promptTokens;
      usage[role].completionTokens += u.completionTokens;
      usage[role].unreported += u.unreported;
      promptTokens += u.promptTokens;
      completionTokens += u.completionTokens;
    }
    if (r.status === 'error') {
      errors++;
      continue;
    }
    askedByTask[r.task]++;
    if (r.passRate !== undefined) {
      const k = Math.min(groupSize, Math.max(0, Math.round(r.passRate * groupSize)));
      bins[k].count++;
      if (r.status === 'kept') bins[k].kept++;
      docsAnswered.push(r.questionerDocuments.length);
    }
    if (r.status === 'kept') {
      kept++;
      keptByTask[r.task]++;
      docsKept.push(r.questionerDocuments.length);
      if (r.fromCache) fromHistory++;
    } else {
      rejected++;
      if (r.reason !== undefined) rejectReasons[r.reason]++;
    }
  }
  const totalTokens = promptTokens + completionTokens;
  const totalCost =
    prices === undefined
      ? null
      : (promptTokens * prices.inputPerMillion + completionTokens * prices.outputPerMillion) / 1e6;
  return {
    slots: records.length,
    kept,
    rejected,
    errors,
    askedByTask,
    keptByTask,
    rejectReasons,
    passRateHistogram: bins,
    groupSize,
    meanDocuments: { answered: mean(docsAnswered), kept: mean(docsKept) },
    keptFromHistory: kept === 0 ? 0 : fromHistory / kept,
    usage,
    totalTokens,
    tokensPerKept: kept === 0 ? null : totalTokens / kept,
    costPerKept: totalCost === null || kept === 0 ? null : totalCost / kept,
    totalCost,
  };
}

function fmt(x: number | null, digits = 1): string {
  return x === null ? 'n/a' : x.toFixed(digits);
}

/** A multi-line, human-readable rendering of the summary. */
export function formatSummary(
  s: GenerateSummary,
  session?: { readonly elapsedMs: number; readonly slots: number },
): string {
  const lines: string[] = [];
  lines.push(
    `questions: ${s.slots} asked, ${s.kept} kept, ${s.rejected} rejected, ${s.errors} failed (endpoint errors)`,
  );
  lines.push(
    'kept per task: ' + TASKS.map((t) => `${t} ${s.keptByTask[t]}/${s.askedByTask[t]}`).join(', '),
  );
  const reasons = REJECT_REASONS.filter((r) => s.rejectReasons[r] > 0).map(
    (r) => `${r} ${s.rejectReasons[r]}`,
  );
  lines.push(`rejected by reason: ${reasons.length > 0 ? reasons.join(', ') : 'none'}`);
  const answered = s.passRateHistogram.reduce((a, b) => a + b.count, 0);
  lines.push(`pass-rate histogram (${answered} questions answered by ${s.groupSize} responders):`);
  const widest = Math.max(1, ...s.passRateHistogram.map((b) => b.count));
  for (const b of s.passRateHistogram) {
    const bar = '#'.repeat(Math.round((30 * b.count) / widest));
    lines.push(
      `  ${String(b.correct).padStart(2)}/${s.groupSize}  ${String(b.count).padStart(5)} (kept ${b.kept})  ${bar}`,
    );
  }
  lines.push(
    `documents per question: ${fmt(s.meanDocuments.answered, 2)} answered, ${fmt(s.meanDocuments.kept, 2)} kept; ${(100 * s.keptFromHistory).toFixed(0)}% of kept used the history memory`,
  );
  lines.push('token usage per role (prompt + completion):');
  for (const role of ROLES) {
    const u = s.usage[role];
    const note = u.unreported > 0 ? ` (${u.unreported} calls without usage)` : '';
    lines.push(
      `  ${role.padEnd(10)} ${String(u.calls).padStart(6)} calls  ${u.promptTokens} + ${u.completionTokens}${note}`,
    );
  }
  lines.push(
    `tokens per kept question: ${fmt(s.tokensPerKept, 0)}` +
      (s.costPerKept !== null ? `; cost per kept question: ${s.costPerKept.toFixed(4)}` : '') +
      (s.totalCost !== null ? `; total cost: ${s.totalCost.toFixed(4)}` : ''),
  );
  if (session !== undefined && session.elapsedMs > 0) {
    const perMinute = (session.slots * 60000) / session.elapsedMs;
    lines.push(
      `this session: ${session.slots} questions in ${(session.elapsedMs / 1000).toFixed(1)} s (${perMinute.toFixed(1)} questions/min)`,
    );
  }
  return lines.join('\n');
}
