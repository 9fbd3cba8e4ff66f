/** The run directory's guards: the exclusive lock, fresh-run refusal, relative refs, truncation. */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../core/errors.ts';
import { RunDir } from './run-dir.ts';

const fresh = (): RunDir => new RunDir(join(mkdtempSync(join(tmpdir(), 'spell-rundir-')), 'r'));

describe('run directory lock', () => {
  test('a second holder is refused with the pid and host of the first', () => {
    const dir = fresh();
    const held = dir.lock();
    const again = new RunDir(dir.root);
    expect(() => again.lock()).toThrow(ConfigurationError);
    expect(() => again.lock()).toThrow(new RegExp(`in use by pid ${process.pid} on ${hostname()}`));
    held.release();
    again.lock().release();
    expect(readdirSync(dir.root)).not.toContain('.lock');
  });

  test('a lock left by a process that is gone is taken over', () => {
    const dir = fresh();
    mkdirSync(dir.root, { recursive: true });
    // pid 2^22+1 is above Linux's default pid_max: no such process.
    writeFileSync(
      dir.lockPath,
      JSON.stringify({ pid: 4_194_305, host: hostname(), started: 'earlier' }),
    );
    const lock = dir.lock();
    expect(JSON.parse(readFileSync(dir.lockPath, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  test('a lock from another host is not second-guessed', () => {
    const dir = fresh();
    mkdirSync(dir.root, { recursive: true });
    writeFileSync(dir.lockPath, JSON.stringify({ pid: 1, host: 'elsewhere', started: 'x' }));
    expect(() => dir.lock()).toThrow(/in use by pid 1 on elsewhere/);
  });
});

describe('fresh runs', () => {
  test('a directory holding a run is refused without --resume or --overwrite', () => {
    const dir = fresh();
    dir.create();
    dir.appendMetrics({ step: 1 });
    expect(() => dir.prepareFresh({ resume: false, overwrite: false })).toThrow(
      /already holds a run \(checkpoints, metrics\.jsonl, rollouts\); pass --resume to continue it, --overwrite to replace it/,
    );
    dir.prepareFresh({ resume: true, overwrite: false }); // resuming is fine
    dir.prepareFresh({ resume: false, overwrite: true });
    expect(readdirSync(dir.root)).toEqual([]);
  });
});

describe('references and truncation', () => {
  test('engine refs inside the run directory are stored relative to it', () => {
    const dir = fresh();
    const abs = join(dir.root, 'checkpoints', 'engine', 'step-000001');
    expect(dir.storeRef(abs)).toBe('checkpoints/engine/step-000001');
    expect(dir.resolveRef('checkpoints/engine/step-000001')).toBe(abs);
    const copy = new RunDir(`${dir.root}-copy`);
    expect(copy.resolveRef(dir.storeRef(abs))).toBe(
      join(copy.root, 'checkpoints', 'engine', 'step-000001'),
    );
    expect(dir.storeRef('/elsewhere/ckpt')).toBe('/elsewhere/ckpt');
    expect(dir.storeRef('tinker://model-1/weights/step-1')).toBe('tinker://model-1/weights/step-1');
    expect(dir.resolveRef('tinker://model-1/weights/step-1')).toBe(
      'tinker://model-1/weights/step-1',
    );
  });

  test('rollouts and metrics of steps after the checkpoint (or all, without one) are dropped', () => {
    const dir = fresh();
    dir.create();
    for (const s of [1, 2, 3]) {
      dir.appendMetrics({ step: s });
      dir.writeRollouts(s, [{ step: s }]);
    }
    dir.truncateMetricsAfter(1);
    dir.truncateRolloutsAfter(1);
    expect(dir.readMetrics()).toEqual([{ step: 1 }]);
    expect(readdirSync(dir.rolloutsDir)).toEqual(['step-000001.jsonl']);
    dir.truncateMetricsAfter(0);
    dir.truncateRolloutsAfter(0);
    expect(dir.readMetrics()).toEqual([]);
    expect(readdirSync(dir.rolloutsDir)).toEqual([]);
  });
});
