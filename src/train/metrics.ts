/**
 * Flat metric keys of one training step (spell-algorithm.md §9), namespaced like the reference:
 * `critic/role/<role>/rewards/mean`, `critic/task/<task>/role/<role>/advantages/max`, ...
 */
import type { TrainedRole } from '../spell/labels.ts';
import type { Task } from '../spell/task.ts';

/** The trained roles (spell/labels.ts). */
export type Role = TrainedRole;

/** One trained sequence, as far as metrics are concerned. */
export interface TrainedSample {
  readonly role: Role;
  readonly task: Task;
  readonly reward: number;
  readonly advantage: number;
  readonly responseLength: number;
  readonly promptLength: number;
  /** Hit the response-token cap. */
  readonly clipped: boolean;
}

function stats(prefix: string, xs: readonly number[], out: Record<string, number>): void {
  if (xs.length === 0) return;
  let sum = 0;
  let max = -Infinity;
  let min = Infinity;
  for (const x of xs) {
    sum += x;
    if (x > max) max = x;
    if (x < min) min = x;
  }
  out[`${prefix}/mean`] = sum / xs.length;
  out[`${prefix}/max`] = max;
  out[`${prefix}/min`] = min;
}

function groupMetrics(
  suffix: string,
  samples: readonly TrainedSample[],
  out: Record<string, number>,
) {
  const sep = suffix === '' ? '' : `/${suffix}`;
  out[`critic${sep}/count`] = samples.length;
  if (samples.length === 0) return;
  stats(
    `critic${sep}/rewards`,
    samples.map((s) => s.reward),
    out,
  );
  stats(
    `critic${sep}/advantages`,
    samples.map((s) => s.advantage),
    out,
  );
  stats(
    `response_length${sep}`,
    samples.map((s) => s.responseLength),
    out,
  );
  out[`response_length${sep}/clip_ratio`] =
    samples.filter((s) => s.clipped).length / samples.length;
  stats(
    `prompt_length${sep}`,
    samples.map((s) => s.promptLength),
    out,
  );
}

/** Whole-batch, per-role, per-task and per task×role statistics of the trained samples. */
export function batchMetrics(samples: readonly TrainedSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  groupMetrics('', samples, out);
  const roles: Role[] = ['questioner', 'responder', 'verifier'];
  const tasks = [...new Set(samples.map((s) => s.task))].sort();
  for (const role of roles)
    groupMetrics(
      `role/${role}`,
      samples.filter((s) => s.role === role),
      out,
    );
  for (const task of tasks) {
    groupMetrics(
      `task/${task}`,
      samples.filter((s) => s.task === task),
      out,
    );
    for (const role of roles) {
      const sub = samples.filter((s) => s.task === task && s.role === role);
      if (sub.length > 0) groupMetrics(`task/${task}/role/${role}`, sub, out);
    }
  }
  return out;
}
