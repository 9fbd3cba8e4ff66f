/**
 * The run directory: the one place a run's files are laid out.
 *
 *   <runDir>/config.yaml                  the resolved config, exactly as run
 *   <runDir>/metrics.jsonl                one line per completed step
 *   <runDir>/rollouts/step-NNNNNN.jsonl   every sample of the step
 *   <runDir>/checkpoints/step-NNNNNN/     engine state + controller.json (complete once renamed in)
 *   <runDir>/checkpoints/latest           name of the newest complete checkpoint
 *
 * Checkpoint folders are written under a temporary name and renamed into place, so a folder named
 * step-NNNNNN is always complete; `latest` is written atomically after the rename.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  appendFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../core/atomic.ts';
import { CheckpointError } from '../core/errors.ts';

export function stepName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

export class RunDir {
  constructor(readonly root: string) {}

  get configPath(): string {
    return join(this.root, 'config.yaml');
  }
  get metricsPath(): string {
    return join(this.root, 'metrics.jsonl');
  }
  get rolloutsDir(): string {
    return join(this.root, 'rollouts');
  }
  get checkpointsDir(): string {
    return join(this.root, 'checkpoints');
  }

  create(): void {
    mkdirSync(this.rolloutsDir, { recursive: true });
    mkdirSync(this.checkpointsDir, { recursive: true });
  }

  writeConfig(config: unknown): void {
    writeFileAtomic(this.configPath, stringify(config));
  }

  /** Rollouts of one step, written whole and atomically (a resumed step rewrites its file). */
  writeRollouts(step: number, records: readonly object[]): void {
    const text = records.map((r) => JSON.stringify(r)).join('\n');
    writeFileAtomic(
      join(this.rolloutsDir, `${stepName(step)}.jsonl`),
      text.length ? `${text}\n` : '',
    );
  }

  appendMetrics(record: object): void {
    appendFileSync(this.metricsPath, `${JSON.stringify(record)}\n`);
  }

  /**
   * Drop metric lines of steps after `step` (written before a crash that the checkpoint does not
   * cover), so a resumed run's metrics equal an uninterrupted run's. Rewritten atomically.
   */
  truncateMetricsAfter(step: number): void {
    if (!existsSync(this.metricsPath)) return;
    const kept: string[] = [];
    for (const line of readFileSync(this.metricsPath, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // a torn last line from a crash mid-append
      }
      const s = (parsed as { step?: unknown }).step;
      if (typeof s === 'number' && s <= step) kept.push(line);
    }
    writeFileAtomic(this.metricsPath, kept.length ? `${kept.join('\n')}\n` : '');
  }

  readMetrics(): Record<string, unknown>[] {
    if (!existsSync(this.metricsPath)) return [];
    const out: Record<string, unknown>[] = [];
    for (const line of readFileSync(this.metricsPath, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a torn last line from a crash mid-append carries no complete step
      }
    }
    return out;
  }

  /** A fresh temporary folder for the checkpoint of `step`; pass it to `commitCheckpoint`. */
  beginCheckpoint(step: number): string {
    const tmp = join(this.checkpointsDir, `.tmp-${stepName(step)}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    return tmp;
  }

  commitCheckpoint(step: number, tmp: string): string {
    const final = join(this.checkpointsDir, stepName(step));
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    writeFileAtomic(join(this.checkpointsDir, 'latest'), `${stepName(step)}\n`);
    return final;
  }

  /** The newest complete checkpoint folder, or undefined when there is none. */
  latestCheckpoint(): { step: number; dir: string } | undefined {
    if (!existsSync(this.checkpointsDir)) return undefined;
    const steps = readdirSync(this.checkpointsDir)
      .map((n) => /^step-(\d{6})$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((s) => existsSync(join(this.checkpointsDir, stepName(s), 'controller.json')))
      .sort((a, b) => a - b);
    const step = steps[steps.length - 1];
    if (step === undefined) return undefined;
    return { step, dir: join(this.checkpointsDir, stepName(step)) };
  }

  /** Remove temporary checkpoint folders left by a crash. */
  cleanTemporary(): void {
    if (!existsSync(this.checkpointsDir)) return;
    for (const n of readdirSync(this.checkpointsDir)) {
      if (n.startsWith('.tmp-'))
        rmSync(join(this.checkpointsDir, n), { recursive: true, force: true });
    }
  }

  readController(dir: string): unknown {
    const path = join(dir, 'controller.json');
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new CheckpointError(`cannot read controller state ${path}: ${String(err)}`, {
        cause: err,
      });
    }
  }
}
