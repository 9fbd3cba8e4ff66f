// The bench report's shape and sanity on a quick run (speed is never asserted): every cell has a
// finite positive GFLOP/s, a correct product (small error vs float64), and the model section runs
// real training steps (finite loss) for each backend.
import { describe, expect, test } from 'vitest';
import { nativeGemmStatus } from '../model/kernels/gemm.ts';
import { runEngineBench } from './engine-bench.ts';
import { modelShapes } from './engine-bench.ts';
import { DEFAULT_WORKLOAD } from './model-bench.ts';

describe('spell bench engine (quick)', () => {
  test('reports every backend × thread cell with a correct product and model throughput', () => {
    const r = runEngineBench({
      backends: ['native', 'js'],
      threads: [1, 2],
      quick: true,
      includeModel: true,
    });
    const backends = nativeGemmStatus().available ? ['native', 'js'] : ['js'];
    expect([...new Set(r.matmul.map((m) => m.backend))]).toEqual(backends);
    for (const m of r.matmul) {
      expect(m.gflops).toBeGreaterThan(0);
      expect(Number.isFinite(m.gflops)).toBe(true);
      expect(m.maxAbsErr).toBeLessThan(1e-3);
      expect(m.peakRatio).toBeCloseTo(m.gflops / 475, 2);
    }
    expect(r.goal.met).toBe(r.goal.peakRatio >= 0.25);
    if (!('results' in r.model)) throw new Error('model section was skipped');
    expect(r.model.results.map((m) => m.backend)).toEqual(backends);
    for (const m of r.model.results) {
      expect(Number.isFinite(m.lossAfter)).toBe(true);
      expect(m.forwardTokensPerSec).toBeGreaterThan(0);
      expect(m.trainTokensPerSec).toBeGreaterThan(0);
      expect(m.sampleTokensPerSec).toBeGreaterThan(0);
    }
  });

  test('the model shapes follow the bench config (T = seqLen rows, decode = samples rows)', () => {
    const shapes = modelShapes(DEFAULT_WORKLOAD);
    expect(shapes.find((s) => s.name.includes('lm head'))).toMatchObject({
      M: 128,
      N: 4096,
      K: 256,
      transB: true,
    });
    expect(shapes.find((s) => s.name.includes('decode'))?.M).toBe(4);
  });
});
