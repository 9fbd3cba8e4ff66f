/**
 * The run directory: the one place a run's files are laid out.
 *
 *   <runDir>/config.yaml                  the resolved config, exactly as run
 *   <runDir>/metrics.jsonl                one line per completed step
 *   <runDir>/rollouts/step-NNNNNN.jsonl   every sample of the step
 *   <runDir>/checkpoints/step-NNNNNN/     engine state + controller.json (complete once renamed in)
 *   <runDir>/checkpoints/latest           name of the newest complete checkpoint
 *
 *   <runDir>/.lock                        {pid, host} of the process running it (see lock())
 *
 * Checkpoint folders are written under a temporary name and renamed into place, so a folder named
 * step-NNNNNN is always complete; `latest` is written atomically after the rename. References to
 * engine state inside the run directory are stored relative to it, so a copied run directory
 * resumes from its own files.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  appendFileSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../core/atomic.ts';
import { CheckpointError, ConfigurationError } from '../core/errors.ts';

/** A held run-directory lock; `release()` removes the lock file (idempotent). */
export interface RunLock {
  release(): void;
}

interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
}

/** Whether a process with this pid runs on this machine. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

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

  get lockPath(): string {
    return join(this.root, '.lock');
  }

  /**
   * Take the run directory for this process: an exclusive lock file holding pid and host, created
   * atomically (O_EXCL). A lock left by a process that no longer runs on this host is stale and
   * taken over; a live one (or one from another host, which cannot be checked) is refused.
   * @throws ConfigurationError naming the holder
   */
  lock(): RunLock {
    mkdirSync(this.root, { recursive: true });
    const mine: LockRecord = {
      pid: process.pid,
      host: hostname(),
      started: new Date().toISOString(),
    };
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(this.lockPath, `${JSON.stringify(mine)}\n`, { flag: 'wx' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      }
      const held = this.readLock();
      if (held !== undefined && (held.host !== mine.host || pidAlive(held.pid))) {
        throw new ConfigurationError(
          `run directory ${this.root} is in use by pid ${held.pid} on ${held.host} (since ${held.started}); wait for it to finish, or delete ${this.lockPath} if that process is gone`,
        );
      }
      rmSync(this.lockPath, { force: true }); // stale: its process is gone
    }
    return {
      release: () => {
        if (this.readLock()?.pid === mine.pid) rmSync(this.lockPath, { force: true });
      },
    };
  }

  private readLock(): LockRecord | undefined {
    try {
      const v = JSON.parse(readFileSync(this.lockPath, 'utf8')) as Partial<LockRecord>;
      if (typeof v.pid === 'number' && typeof v.host === 'string') {
        return { pid: v.pid, host: v.host, started: String(v.started ?? '?') };
      }
    } catch {
      // missing or torn: treated as stale
    }
    return undefined;
  }

  /**
   * Refuse to start a new run in a directory that holds one, unless asked to continue it (resume)
   * or replace it (overwrite: everything but the lock is deleted).
   * @throws ConfigurationError listing what is there
   */
  prepareFresh(opts: { resume: boolean; overwrite: boolean }): void {
    if (opts.resume || !existsSync(this.root)) return;
    const entries = readdirSync(this.root).filter((n) => n !== '.lock');
    if (entries.length === 0) return;
    if (opts.overwrite) {
      for (const n of entries) rmSync(join(this.root, n), { recursive: true, force: true });
      return;
    }
    throw new ConfigurationError(
      `run directory ${this.root} already holds a run (${entries.slice(0, 4).join(', ')}${entries.length > 4 ? ', ...' : ''}); pass --resume to continue it, --overwrite to replace it, or choose another --run-dir`,
    );
  }

  /** An engine reference as stored in controller.json: relative when it is inside the run directory. */
  storeRef(ref: string): string {
    if (!isAbsolute(ref)) return ref; // a URI (tinker://...) or already relative
    const rel = relative(this.root, ref);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return ref;
    return rel.split(sep).join('/');
  }

  /** The reference `load` takes for a stored one (relative ones are resolved against the run directory). */
  resolveRef(stored: string): string {
    if (isAbsolute(stored) || /^[a-z][a-z0-9+.-]*:\/\//i.test(stored)) return stored;
    return resolve(this.root, stored);
  }

  /**
   * Drop rollout files of steps after `step` (written before a crash the checkpoint does not
   * cover; a resumed run writes them again).
   */
  truncateRolloutsAfter(step: number): void {
    if (!existsSync(this.rolloutsDir)) return;
    for (const n of readdirSync(this.rolloutsDir)) {
      const m = /^step-(\d+)\.jsonl$/.exec(n);
      if (m && Number(m[1]) > step) rmSync(join(this.rolloutsDir, n), { force: true });
    }
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
