/**
 * The domain sampler: an infinite stream of gen batches, each a fixed mix of tasks.
 *
 * Follows the reference DomainSampler (spell-algorithm.md §2.4): per-task fixed weights,
 * per-batch counts int(batch × w) with the remainder handed out one at a time by decreasing
 * weight (ties in TASKS order), a shuffled index list per task consumed front to back and
 * reshuffled when too few remain (the leftovers are skipped for that pass), the batch shuffled.
 * When a task's count exceeds its cluster count, whole passes are drawn back to back.
 *
 * The whole state (orders, positions, RNG) is plain JSON, so a resumed run draws exactly the
 * batches an uninterrupted one would have drawn.
 */
import { z } from 'zod';
import { ConfigurationError, DataError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { TASKS, type Task } from '../spell/task.ts';

/** One drawn item: the task and the cluster's index in that task's routed list. */
export interface Draw {
  readonly task: Task;
  readonly index: number;
}

/**
 * The weights to sample with when the corpus routes no clusters to some weighted tasks: those
 * tasks get weight 0 (listed in `dropped`) so their share goes to the others, e.g. a text corpus
 * (qa + mc only) under the default equal thirds. When no weighted task has clusters the weights
 * come back unchanged, for DomainSampler.create to refuse.
 */
export function usableWeights(
  weights: Readonly<Record<Task, number>>,
  sizes: Readonly<Record<Task, number>>,
): { weights: Record<Task, number>; dropped: Task[] } {
  const dropped = TASKS.filter((t) => weights[t] > 0 && sizes[t] <= 0);
  if (TASKS.every((t) => !(weights[t] > 0) || dropped.includes(t))) {
    return { weights: { ...weights }, dropped: [] };
  }
  const usable = { ...weights };
  for (const t of dropped) usable[t] = 0;
  return { weights: usable, dropped };
}

/** Sampler settings; weights need not sum to 1 (they are normalised). */
export interface SamplerConfig {
  /** Clusters per gen batch (the reference's 480). */
  readonly batchSize: number;
  /** Relative weight per task; tasks with weight 0 or absent are not drawn. */
  readonly weights: Partial<Record<Task, number>>;
  /** Routed cluster count per task. */
  readonly sizes: Readonly<Record<Task, number>>;
}

const taskSchema = z.enum(['docmath', 'qa', 'mc']);
const u32 = z.number().int().min(0).max(0xffffffff);
const stateSchema = z.strictObject({
  version: z.literal(1),
  batchSize: z.number().int().positive(),
  domains: z.array(
    z.strictObject({
      task: taskSchema,
      weight: z.number().positive(),
      count: z.number().int().nonnegative(),
      size: z.number().int().positive(),
      order: z.array(z.number().int().nonnegative()),
      position: z.number().int().nonnegative(),
    }),
  ),
  rng: z.tuple([u32, u32, u32, u32]),
});

/** The sampler's serialisable state (see `DomainSampler.state`). */
export type SamplerState = z.infer<typeof stateSchema>;

interface Domain {
  task: Task;
  weight: number;
  count: number;
  size: number;
  order: number[];
  position: number;
}

/**
 * Per-task counts for one batch: floor(batch × w), remainder one each by decreasing weight.
 * @example batchCounts(10, [['docmath', 1], ['qa', 1], ['mc', 1]]) // → [4, 3, 3]
 */
export function batchCounts(batchSize: number, weights: readonly (readonly [Task, number])[]) {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  // The epsilon keeps 480 × (1/3) at 160 whatever the float rounding of the normalised weight.
  const counts = weights.map(([, w]) => Math.floor((batchSize * w) / total + 1e-9));
  let remainder = batchSize - counts.reduce((s, c) => s + c, 0);
  const byWeight = weights.map((_, i) => i).sort((a, b) => weights[b][1] - weights[a][1] || a - b);
  for (let i = 0; remainder > 0; i = (i + 1) % byWeight.length, remainder--) counts[byWeight[i]]++;
  return counts;
}

export class DomainSampler {
  private constructor(
    private readonly batchSize: number,
    private readonly domains: Domain[],
    private readonly rng: Rng,
  ) {}

  /**
   * A fresh sampler.
   * @param rng the document-sampling stream; the sampler owns it from now on.
   * @throws ConfigurationError for a bad batch size or weights; DataError when a weighted task has
   *   no clusters.
   */
  static create(config: SamplerConfig, rng: Rng): DomainSampler {
    if (!Number.isInteger(config.batchSize) || config.batchSize <= 0) {
      throw new ConfigurationError(
        `sampler batch size must be a positive integer, got ${config.batchSize}`,
      );
    }
    const weighted: [Task, number][] = [];
    for (const task of TASKS) {
      const w = config.weights[task] ?? 0;
      if (!Number.isFinite(w) || w < 0) {
        throw new ConfigurationError(`task weight for ${task} must be >= 0, got ${w}`);
      }
      if (w === 0) continue;
      if (config.sizes[task] <= 0) {
        throw new DataError(
          `task ${task} has weight ${w} but the corpus routes no clusters to it; add clusters for it or set its weight to 0`,
        );
      }
      weighted.push([task, w]);
    }
    if (weighted.length === 0) throw new ConfigurationError('every task weight is 0');
    const counts = batchCounts(config.batchSize, weighted);
    const domains = weighted.map(([task, weight], i) => {
      const size = config.sizes[task];
      const order = rng.shuffle(Array.from({ length: size }, (_, j) => j));
      return { task, weight, count: counts[i], size, order, position: 0 };
    });
    return new DomainSampler(config.batchSize, domains, rng);
  }

  /**
   * Restore a sampler saved with `state()`.
   * @param sizes the current corpus's cluster counts per task; must match the saved ones.
   * @throws DataError when the state is malformed or the corpus changed.
   */
  static fromState(state: unknown, sizes: Readonly<Record<Task, number>>): DomainSampler {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) {
      throw new DataError(`sampler state is malformed: ${z.prettifyError(parsed.error)}`, {
        field: 'sampler',
      });
    }
    const s = parsed.data;
    for (const d of s.domains) {
      if (sizes[d.task] !== d.size) {
        throw new DataError(
          `sampler state was saved for ${d.size} ${d.task} clusters but the corpus now routes ${sizes[d.task]}; resume with the same corpus`,
          { field: `sampler.${d.task}` },
        );
      }
      const sorted = d.order.slice().sort((a, b) => a - b);
      if (sorted.length !== d.size || sorted.some((v, i) => v !== i) || d.position > d.size) {
        throw new DataError(`sampler state for ${d.task} is not a permutation of its clusters`, {
          field: `sampler.${d.task}`,
        });
      }
    }
    const domains = s.domains.map((d) => ({ ...d, order: d.order.slice() }));
    return new DomainSampler(s.batchSize, domains, Rng.fromState(s.rng));
  }

  /** The complete state as plain JSON data (a deep copy). */
  state(): SamplerState {
    return {
      version: 1,
      batchSize: this.batchSize,
      domains: this.domains.map((d) => ({ ...d, order: d.order.slice() })),
      rng: [...this.rng.state()] as [number, number, number, number],
    };
  }

  /** Clusters per task in every batch. */
  counts(): Record<Task, number> {
    const out = { docmath: 0, qa: 0, mc: 0 };
    for (const d of this.domains) out[d.task] = d.count;
    return out;
  }

  /** Draw the next gen batch (always `batchSize` items, shuffled across tasks). */
  next(): Draw[] {
    const batch: Draw[] = [];
    for (const d of this.domains) {
      for (const index of this.take(d)) batch.push({ task: d.task, index });
    }
    return this.rng.shuffle(batch);
  }

  /** An endless iterator over batches. */
  *[Symbol.iterator](): Iterator<Draw[]> {
    for (;;) yield this.next();
  }

  private take(d: Domain): number[] {
    const out: number[] = [];
    while (out.length < d.count) {
      const need = d.count - out.length;
      const left = d.size - d.position;
      // Reference rule: too few left for this batch → reshuffle and start over; leftovers lost.
      // When the count exceeds the whole list, a pass is drawn entirely before reshuffling.
      if (left === 0 || (left < need && need <= d.size)) {
        this.rng.shuffle(d.order);
        d.position = 0;
        continue;
      }
      const n = Math.min(left, need);
      out.push(...d.order.slice(d.position, d.position + n));
      d.position += n;
    }
    return out;
  }
}
