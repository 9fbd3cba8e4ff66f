// The peers are optional packages: when one does not import, the report says so and gives the
// exact install command instead of a figure. Exercised with module names that cannot exist, so
// the real import path runs whether or not the peers happen to be installed on this machine.
import { describe, expect, test } from 'vitest';
import { ONNX_INSTALL } from './onnx-matmul.ts';
import { importOptional, timeRunsAsync } from './optional-import.ts';
import { runPeers } from './peers.ts';
import { TFJS_INSTALL } from './tfjs-train.ts';
import { BENCH_MODEL_CONFIG, DEFAULT_WORKLOAD } from '../model-bench.ts';

const MISSING = '@spell-bench-missing/no-such-package';

describe('optional peers', () => {
  test('importOptional turns a missing package into a reason naming it', async () => {
    const r = await importOptional(MISSING);
    expect(r).toEqual({ ok: false, reason: `${MISSING} is not installed` });
  });

  test('importOptional loads a package that exists', async () => {
    const r = await importOptional('node:path');
    expect(r.ok).toBe(true);
  });

  test('both peers report available:false with the exact install command', async () => {
    const report = await runPeers({
      matmul: [],
      threads: [1, 2],
      model: {
        config: BENCH_MODEL_CONFIG,
        parameters: 0,
        workload: DEFAULT_WORKLOAD,
        results: [],
      },
      budgetMs: 10,
      specifiers: { onnxruntime: MISSING, tfjs: [MISSING, MISSING] },
    });
    expect(report.onnxruntime).toEqual({
      available: false,
      install: 'ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node@1',
      reason: `${MISSING} is not installed`,
    });
    expect(report.tfjs).toEqual({
      available: false,
      install: 'npm install --no-save @tensorflow/tfjs@4 @tensorflow/tfjs-backend-wasm@4',
      reason: `${MISSING} is not installed`,
    });
    // The exported constants are what the report and the README show.
    expect(ONNX_INSTALL).toBe((report.onnxruntime as { install: string }).install);
    expect(TFJS_INSTALL).toBe((report.tfjs as { install: string }).install);
  });

  test('the TF.js peer is skipped, not run, when the model section was skipped', async () => {
    const report = await runPeers({
      matmul: [],
      threads: [1],
      model: { skipped: 'disabled with --no-model' },
      budgetMs: 10,
      specifiers: { onnxruntime: MISSING, tfjs: [MISSING, MISSING] },
    });
    expect(report.tfjs).toEqual({ skipped: 'the model section was skipped' });
  });

  test('timeRunsAsync warms up once, then times at least minRuns runs', async () => {
    let calls = 0;
    const t = await timeRunsAsync(
      async () => {
        calls++;
        await Promise.resolve();
      },
      0,
      3,
      3,
    );
    expect(t.runs).toBe(3);
    expect(calls).toBe(4);
    expect(t.best).toBeLessThanOrEqual(t.median);
  });
});
