/**
 * The repeated-reference guard (our addition; the reference code has none). A weak policy playing
 * both sides settles on a constant the questioner writes and the responder says without reading:
 * measured runs of the miniature ended with docmath references "10" in 184 of 265 questions and
 * qa references "Lake Shire" / "Mere" in 56 of 69. The grounding filter cannot see this when the
 * policy's no-document guess is a different constant, and `qaAnswerInDocuments` cannot when the
 * constant is a name many documents hold.
 *
 * The guard keeps, per task, the normalised references of the last `window` parsed questions and
 * labels a question `bad_repeat` when its reference already fills `limit` of them. Labelled data
 * from the synthetic generator repeats an answer at most 3 (docmath) and 6 (qa) times in 64
 * consecutive questions, so the preset's 8 of 64 leaves honest questions alone.
 *
 * MC is exempt: its references are one of four letters and the prompt itself draws which one.
 * Every parsed question enters the window, repeats included, so the window measures what the
 * questioner writes, and a constant stays blocked until the questioner moves off it.
 */

import { CheckpointError } from '../core/errors.ts';
import type { RepeatGuardConfig } from './config.ts';
import { normalizeDocmath } from './rules/docmath.ts';
import { PARSE_FAILURE_SENTINEL } from './rules/arith.ts';
import { normalizeAnswer } from '../text/normalize.ts';
import type { Task } from './task.ts';
import { parseTask } from './task.ts';

/** The serialised form, version 1: the remembered keys per task, oldest first. */
export interface RepeatGuardJson {
  readonly version: 1;
  readonly window: number;
  readonly limit: number;
  readonly keys: Readonly<Partial<Record<Task, readonly string[]>>>;
}

/**
 * What a reference is compared by: docmath by its numeric value (so "10", "10.0" and "$10"
 * agree), qa by its SQuAD-normalised text. Undefined for MC and for a docmath reference that
 * does not evaluate to a number (it cannot collude with a rule check that needs a number).
 */
export function referenceKey(task: Task, reference: string): string | undefined {
  if (task === 'mc') return undefined;
  if (task === 'docmath') {
    const v = normalizeDocmath(reference);
    if (typeof v === 'boolean') return String(v);
    if (v === PARSE_FAILURE_SENTINEL || !Number.isFinite(v)) return undefined;
    return String(Math.round(v * 1000) / 1000);
  }
  const key = normalizeAnswer(reference);
  return key.length > 0 ? key : undefined;
}

export class RepeatGuard {
  private readonly keys = new Map<Task, string[]>();

  constructor(readonly cfg: RepeatGuardConfig) {
    if (!Number.isInteger(cfg.window) || cfg.window < 0) {
      throw new RangeError(`repeat guard window must be a non-negative integer, got ${cfg.window}`);
    }
    if (!Number.isInteger(cfg.limit) || cfg.limit < 1) {
      throw new RangeError(`repeat guard limit must be a positive integer, got ${cfg.limit}`);
    }
  }

  get enabled(): boolean {
    return this.cfg.window > 0;
  }

  /**
   * Judge one parsed question and remember its reference. Questions must be offered in a fixed
   * order (the batch's), since each one's verdict depends on those before it.
   * @returns true when the reference is a repeat (the question is bad_repeat).
   */
  observe(task: Task, reference: string): boolean {
    if (!this.enabled) return false;
    const key = referenceKey(task, reference);
    if (key === undefined) return false;
    const recent = this.keys.get(task) ?? [];
    let count = 0;
    for (const k of recent) if (k === key) count += 1;
    recent.push(key);
    if (recent.length > this.cfg.window) recent.splice(0, recent.length - this.cfg.window);
    this.keys.set(task, recent);
    return count >= this.cfg.limit;
  }

  toJSON(): RepeatGuardJson {
    const keys: Partial<Record<Task, readonly string[]>> = {};
    for (const [task, list] of this.keys) keys[task] = [...list];
    return { version: 1, window: this.cfg.window, limit: this.cfg.limit, keys };
  }

  /**
   * Restore a guard from a checkpoint. The configured window and limit win over the saved ones
   * (a resumed run may change them); saved keys beyond the window are dropped, oldest first.
   * @throws CheckpointError when the value is not a version-1 guard.
   */
  static fromJSON(value: unknown, cfg: RepeatGuardConfig, source: string): RepeatGuard {
    const guard = new RepeatGuard(cfg);
    if (typeof value !== 'object' || value === null) {
      throw new CheckpointError(`${source}: repeat guard must be an object, got ${typeof value}`);
    }
    const v = value as { version?: unknown; keys?: unknown };
    if (v.version !== 1) {
      throw new CheckpointError(
        `${source}: repeat guard version must be 1, got ${String(v.version)}`,
      );
    }
    if (typeof v.keys !== 'object' || v.keys === null) {
      throw new CheckpointError(`${source}: repeat guard keys must be an object`);
    }
    for (const [name, list] of Object.entries(v.keys)) {
      const task = parseTask(name);
      if (task === undefined) {
        throw new CheckpointError(`${source}: repeat guard has an unknown task "${name}"`);
      }
      if (!Array.isArray(list) || !list.every((k): k is string => typeof k === 'string')) {
        throw new CheckpointError(`${source}: repeat guard keys.${name} must be a list of strings`);
      }
      guard.keys.set(task, list.slice(Math.max(0, list.length - cfg.window)));
    }
    return guard;
  }
}
