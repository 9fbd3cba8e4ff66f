/**
 * Corpus statistics for `spell data stats`: clusters per task, documents per cluster, token
 * lengths of documents and of whole clusters (the responder context), and the problems found.
 * Tokens come from an injected counter; the CLI passes a real tokenizer or a whitespace counter
 * and labels the unit accordingly.
 */
import { TASKS, type Task } from '../spell/task.ts';
import type { ReadResult } from './cluster.ts';
import { routeClusters, type RoutingTable } from './routing.ts';
import { responderContext, type CountTokens } from './views.ts';

/** min / median / max / mean of a list (zeros when empty). */
export interface Summary {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly mean: number;
}

export interface CorpusStats {
  readonly rows: number;
  readonly clusters: number;
  readonly byTask: Record<Task, number>;
  readonly unrouted: number;
  readonly documentsPerCluster: Summary;
  /** What `tokens` counts in: a tokenizer folder, or `whitespace words`. */
  readonly tokenUnit: string;
  readonly documentTokens: Summary;
  readonly clusterTokens: Summary;
  readonly skipped: ReadResult['skipped'];
  readonly problems: ReadResult['problems'];
}

/** Summarise numbers; the median of an even count is the lower middle (an actual value). */
export function summarise(values: readonly number[]): Summary {
  if (values.length === 0) return { min: 0, median: 0, max: 0, mean: 0 };
  const sorted = values.slice().sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return {
    min: sorted[0],
    median: sorted[(sorted.length - 1) >> 1],
    max: sorted[sorted.length - 1],
    mean,
  };
}

/** Compute the statistics of a read corpus. */
export function corpusStats(
  read: ReadResult,
  options: { routing: RoutingTable; seed: number; countTokens: CountTokens; tokenUnit: string },
): CorpusStats {
  const routed = routeClusters(read.clusters, options.routing, options.seed);
  const byTask = { docmath: 0, qa: 0, mc: 0 };
  for (const task of TASKS) byTask[task] = routed.byTask[task].length;
  const docTokens: number[] = [];
  const clusterTokens: number[] = [];
  for (const cluster of read.clusters) {
    for (const doc of cluster.documents) docTokens.push(options.countTokens(doc));
    clusterTokens.push(options.countTokens(responderContext(cluster)));
  }
  return {
    rows: read.rows,
    clusters: read.clusters.length,
    byTask,
    unrouted: routed.unrouted.length,
    documentsPerCluster: summarise(read.clusters.map((c) => c.documents.length)),
    tokenUnit: options.tokenUnit,
    documentTokens: summarise(docTokens),
    clusterTokens: summarise(clusterTokens),
    skipped: read.skipped,
    problems: read.problems,
  };
}

/** Count whitespace-separated words: the fallback when no tokenizer is given. */
export function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

function line(label: string, s: Summary): string {
  return `${label.padEnd(24)} min ${s.min}  median ${s.median}  max ${s.max}  mean ${s.mean.toFixed(1)}`;
}

/** The human-readable report (at most `maxProblems` problem lines). */
export function formatStats(stats: CorpusStats, maxProblems = 10): string {
  const out = [
    `rows read                ${stats.rows}`,
    `clusters                 ${stats.clusters}`,
    ...TASKS.map((t) => `  task ${t.padEnd(19)}${stats.byTask[t]}`),
    `  unrouted               ${stats.unrouted}`,
    line('documents per cluster', stats.documentsPerCluster),
    `token unit               ${stats.tokenUnit}`,
    line('tokens per document', stats.documentTokens),
    line('tokens per cluster', stats.clusterTokens),
  ];
  const reasons = Object.entries(stats.skipped);
  if (reasons.length === 0) out.push('problems                 none');
  else {
    const total = reasons.reduce((s, [, n]) => s + n, 0);
    out.push(`problems                 ${total} skipped`);
    for (const [reason, n] of reasons) out.push(`  ${reason.padEnd(23)}${n}`);
    for (const p of stats.problems.slice(0, maxProblems)) out.push(`  - ${p.message}`);
    if (stats.problems.length > maxProblems) {
      out.push(`  ... and ${stats.problems.length - maxProblems} more (see --json)`);
    }
  }
  if (stats.unrouted > 0) {
    out.push(
      `note: ${stats.unrouted} clusters match no routing prefix and have no task; give them a 'task' or a known source`,
    );
  }
  return out.join('\n');
}
