/**
 * Which task and cluster each question slot plays on. Slot i goes to task tasks[i mod T]; within
 * a task, clusters are visited in a seeded shuffled order, pass after pass (each pass its own
 * shuffle). The plan depends only on (seed, tasks, cluster counts, slot), never on what earlier
 * slots produced, so a resumed run gives a re-run slot exactly the cluster it had. Pure.
 */
import { ConfigurationError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { Task } from '../spell/task.ts';

export interface SlotTarget {
  readonly task: Task;
  /** Index into the task's routed cluster list. */
  readonly clusterIndex: number;
}

export class SlotSchedule {
  private readonly orders = new Map<string, number[]>();

  /**
   * @param sizes routed cluster count per task; every listed task needs at least one cluster.
   * @throws ConfigurationError for an empty task list or a task without clusters.
   */
  constructor(
    private readonly seed: number,
    readonly tasks: readonly Task[],
    private readonly sizes: Readonly<Record<Task, number>>,
  ) {
    if (tasks.length === 0) throw new ConfigurationError('--tasks names no task');
    for (const t of tasks) {
      if (!(sizes[t] > 0)) {
        throw new ConfigurationError(
          `task ${t} was requested but the corpus routes no clusters to it; drop it from --tasks or add clusters for it`,
        );
      }
    }
  }

  /** The task and cluster of a slot (0-based). */
  at(slot: number): SlotTarget {
    if (!Number.isInteger(slot) || slot < 0) {
      throw new RangeError(`slot must be a non-negative integer, got ${slot}`);
    }
    const T = this.tasks.length;
    const task = this.tasks[slot % T];
    const j = Math.floor(slot / T);
    const size = this.sizes[task];
    const pass = Math.floor(j / size);
    return { task, clusterIndex: this.order(task, pass, size)[j % size] };
  }

  private order(task: Task, pass: number, size: number): number[] {
    const key = `${task}:${pass}`;
    let order = this.orders.get(key);
    if (order === undefined) {
      order = Rng.derive(this.seed, `generate:order:${key}`).shuffle(
        Array.from({ length: size }, (_, i) => i),
      );
      // Only the latest passes are ever asked for again; keep the cache small.
      if (this.orders.size > 64) this.orders.clear();
      this.orders.set(key, order);
    }
    return order;
  }
}
