/**
 * Task routing: which task plays on which cluster.
 *
 * A routing table maps a source prefix to a task list (reference default: `docmath` → docmath,
 * `ultrafineweb` → qa + mc). A cluster whose source starts with a prefix belongs to that prefix's
 * group (the longest matching prefix wins). A group routed to k > 1 tasks is shuffled with a
 * seeded stream and split into k near-equal contiguous parts (larger parts first, like numpy's
 * array_split), one per task in list order, so each cluster serves exactly one task.
 * A cluster with an explicit `task` goes to that task and takes no part in splits.
 * Pure and synchronous; the reference's unseeded pandas shuffle is replaced by `Rng.derive`.
 */
import { Rng } from '../core/rng.ts';
import type { Task } from '../spell/task.ts';
import type { Cluster } from './cluster.ts';

/** Source prefix → tasks that play on that source's clusters. */
export type RoutingTable = Readonly<Record<string, readonly Task[]>>;

/**
 * The default table: the paper's two sources, the embedded corpus's three synthetic ones (whose
 * clusters carry explicit tasks anyway; the table covers them when the task is stripped), and
 * plain-text folders (`text/<folder>`). Text goes to qa + mc like the paper's web text
 * (ultrafineweb): docmath needs numbers to compute with, which arbitrary prose does not promise;
 * a text folder named `docmath` (or `qa`, `mc`) sets the task of the clusters below it instead.
 */
export const DEFAULT_ROUTING: RoutingTable = {
  docmath: ['docmath'],
  ultrafineweb: ['qa', 'mc'],
  'text/': ['qa', 'mc'],
  synth_finance: ['docmath'],
  synth_wiki: ['qa'],
  synth_mixed: ['mc'],
};

/** The result of routing: clusters per task, plus clusters no prefix matched. */
export interface Routed {
  readonly byTask: Readonly<Record<Task, readonly Cluster[]>>;
  readonly unrouted: readonly Cluster[];
}

/** The longest prefix of `table` that `source` starts with, or undefined. */
export function matchPrefix(source: string, table: RoutingTable): string | undefined {
  let best: string | undefined;
  for (const prefix of Object.keys(table)) {
    if (source.startsWith(prefix) && (best === undefined || prefix.length > best.length)) {
      best = prefix;
    }
  }
  return best;
}

/** Split `n` items into `k` contiguous parts whose sizes differ by at most one, larger first. */
export function splitSizes(n: number, k: number): number[] {
  const base = Math.floor(n / k);
  const extra = n % k;
  return Array.from({ length: k }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Route clusters to tasks.
 * @param seed seeds the per-prefix split shuffles (`Rng.derive(seed, 'routing:<prefix>')`).
 * @returns clusters per task in a deterministic order, and the clusters no prefix matched.
 * @example
 * const { byTask } = routeClusters(clusters, DEFAULT_ROUTING, 42);
 */
export function routeClusters(
  clusters: readonly Cluster[],
  table: RoutingTable,
  seed: number,
): Routed {
  const byTask: Record<Task, Cluster[]> = { docmath: [], qa: [], mc: [] };
  const groups = new Map<string, Cluster[]>();
  const unrouted: Cluster[] = [];
  for (const cluster of clusters) {
    if (cluster.task !== undefined) {
      byTask[cluster.task].push(cluster);
      continue;
    }
    const prefix = matchPrefix(cluster.source, table);
    if (prefix === undefined || table[prefix].length === 0) {
      unrouted.push(cluster);
      continue;
    }
    const group = groups.get(prefix);
    if (group === undefined) groups.set(prefix, [cluster]);
    else group.push(cluster);
  }
  // Visit prefixes in sorted order so the result does not depend on file order of first sight.
  for (const prefix of [...groups.keys()].sort()) {
    const group = groups.get(prefix) ?? [];
    const tasks = table[prefix];
    if (tasks.length === 1) {
      byTask[tasks[0]].push(...group);
      continue;
    }
    const shuffled = Rng.derive(seed, `routing:${prefix}`).shuffle(group.slice());
    let start = 0;
    splitSizes(shuffled.length, tasks.length).forEach((size, i) => {
      byTask[tasks[i]].push(...shuffled.slice(start, start + size));
      start += size;
    });
  }
  return { byTask, unrouted };
}
