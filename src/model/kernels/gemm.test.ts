// Every gemm backend against the float64 reference, on all four transpose combinations, odd
// shapes and accumulate on/off; plus determinism (bits identical across calls and thread counts),
// views with offsets, and argument validation.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, test } from 'vitest';
import { EngineError, Rng } from '../../core/index.ts';
import {
  gemm,
  gemmBackend,
  gemmNaive,
  gemmThreads,
  nativeGemmStatus,
  setGemmBackend,
  setGemmThreads,
} from './gemm.ts';
import type { GemmBackend } from './gemm.ts';

const initialBackend = gemmBackend();
const initialThreads = gemmThreads();
afterEach(() => {
  setGemmBackend(initialBackend);
  setGemmThreads(initialThreads);
});

function randomFloats(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

// Tolerance for inputs uniform in [-1, 1]: float32 accumulation over K terms of size ≤ 1 drifts by
// about K·2⁻²⁴ in the worst orderings, so |got − ref| ≤ 1e-6·K + 1e-5·|ref| (the reference sums
// in float64 and rounds once).
function maxViolation(
  got: Float32Array,
  ref: Float32Array,
  K: number,
): { maxErr: number; bad: number } {
  let maxErr = 0;
  let bad = 0;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]);
    maxErr = Math.max(maxErr, err);
    if (!(err <= 1e-6 * K + 1e-5 * Math.abs(ref[i]))) bad++;
  }
  return { maxErr, bad };
}

const DIMS = [1, 3, 17, 33, 65, 130];
// Shapes (M, N, K) drawn from the odd sizes so every edge-tile path is hit, plus a few larger ones
// that cross the native cache blocks (K > 256, N > 1024) and the threading threshold.
function shapes(): [number, number, number][] {
  const rng = new Rng(7);
  const out: [number, number, number][] = [
    [1, 1, 1],
    [130, 130, 130],
    [20, 1100, 300],
    [257, 33, 520],
  ];
  for (let i = 0; i < 10; i++) out.push([rng.choice(DIMS), rng.choice(DIMS), rng.choice(DIMS)]);
  return out;
}

const native = nativeGemmStatus();
const backends: GemmBackend[] = native.available ? ['native', 'js'] : ['js'];
if (!native.available) {
  // The JS path is still fully tested; the native one cannot be without a build.
  console.warn(`gemm tests: native backend skipped — ${native.reason}`);
}

describe.each(backends)('gemm backend %s', (backend) => {
  test.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])('matches the float64 reference (transA=%s, transB=%s)', (transA, transB) => {
    setGemmBackend(backend);
    const rng = new Rng(transA ? (transB ? 4 : 3) : transB ? 2 : 1);
    let worst = 0;
    for (const [M, N, K] of shapes()) {
      for (const accumulate of [false, true]) {
        const A = randomFloats(rng, M * K);
        const B = randomFloats(rng, K * N);
        const C0 = randomFloats(rng, M * N);
        const got = C0.slice();
        const ref = C0.slice();
        gemm(transA, transB, M, N, K, A, B, got, accumulate);
        gemmNaive(transA, transB, M, N, K, A, B, ref, accumulate);
        const { maxErr, bad } = maxViolation(got, ref, K);
        worst = Math.max(worst, maxErr);
        expect(bad, `${M}×${N}×${K} acc=${accumulate}: max err ${maxErr}`).toBe(0);
      }
    }
    console.info(`gemm ${backend} transA=${transA} transB=${transB}: max abs err ${worst}`);
  });

  test('two calls on the same inputs give identical bits', () => {
    setGemmBackend(backend);
    const rng = new Rng(11);
    const [M, N, K] = [97, 301, 283];
    const A = randomFloats(rng, M * K);
    const B = randomFloats(rng, N * K);
    const c1 = new Float32Array(M * N);
    const c2 = new Float32Array(M * N);
    gemm(false, true, M, N, K, A, B, c1, false);
    gemm(false, true, M, N, K, A, B, c2, false);
    expect(Buffer.from(c1.buffer).equals(Buffer.from(c2.buffer))).toBe(true);
  });

  test('works on subarray views and leaves the rest of C untouched', () => {
    setGemmBackend(backend);
    const rng = new Rng(5);
    const [M, N, K] = [17, 33, 65];
    const Abig = randomFloats(rng, M * K + 3);
    const Bbig = randomFloats(rng, K * N + 5);
    const Cbig = randomFloats(rng, M * N + 7);
    const before = Cbig.slice();
    const A = Abig.subarray(3);
    const B = Bbig.subarray(5, 5 + K * N);
    const C = Cbig.subarray(1, 1 + M * N);
    const ref = new Float32Array(M * N);
    gemmNaive(false, false, M, N, K, A.slice(), B.slice(), ref, false);
    gemm(false, false, M, N, K, A, B, C, false);
    expect(maxViolation(C.slice(), ref, K).bad).toBe(0);
    expect(Cbig[0]).toBe(before[0]);
    for (let i = 1 + M * N; i < Cbig.length; i++) expect(Cbig[i]).toBe(before[i]);
  });

  test('K = 0 gives C = 0, or leaves C as is when accumulating', () => {
    setGemmBackend(backend);
    const C = new Float32Array([1, 2, 3, 4, 5, 6]);
    gemm(false, false, 2, 3, 0, new Float32Array(0), new Float32Array(0), C, true);
    expect(Array.from(C)).toEqual([1, 2, 3, 4, 5, 6]);
    gemm(true, true, 2, 3, 0, new Float32Array(0), new Float32Array(0), C, false);
    expect(Array.from(C)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  test('a 2×2 literal product, in all four layouts', () => {
    setGemmBackend(backend);
    // op(A) = [[1,2],[3,4]], op(B) = [[5,6],[7,8]] → [[19,22],[43,50]]
    const a = new Float32Array([1, 2, 3, 4]);
    const aT = new Float32Array([1, 3, 2, 4]);
    const b = new Float32Array([5, 6, 7, 8]);
    const bT = new Float32Array([5, 7, 6, 8]);
    for (const [tA, tB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      const C = new Float32Array([1, 1, 1, 1]);
      gemm(tA, tB, 2, 2, 2, tA ? aT : a, tB ? bT : b, C, true);
      expect(Array.from(C)).toEqual([20, 23, 44, 51]);
    }
  });
});

describe.skipIf(!native.available)('native gemm threading', () => {
  test.each([
    [false, false, 300, 700, 260],
    [true, true, 700, 90, 300],
    [false, true, 64, 1100, 513],
  ])(
    'the result bits do not depend on the thread count (transA=%s, transB=%s, %i×%i×%i)',
    (transA, transB, M, N, K) => {
      setGemmBackend('native');
      const rng = new Rng(M + N + K);
      const A = randomFloats(rng, M * K);
      const B = randomFloats(rng, K * N);
      const C0 = randomFloats(rng, M * N);
      const runs = [1, 2, 3].map((t) => {
        setGemmThreads(t);
        const C = C0.slice();
        gemm(transA, transB, M, N, K, A, B, C, true);
        return Buffer.from(C.buffer);
      });
      expect(runs[0].equals(runs[1])).toBe(true);
      expect(runs[0].equals(runs[2])).toBe(true);
    },
  );
});

describe.skipIf(!native.available)('native gemm in worker threads', () => {
  test('the addon loads in two workers at once and each computes the same bits as here', async () => {
    if (!native.available) return;
    // Plain-JS worker source: loads the .node file directly (context-aware N-API init per thread).
    const src = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.path);
      const { M, N, K, A, B } = workerData;
      const C = new Float32Array(M * N);
      addon.sgemm(false, true, M, N, K, A, B, C, false, 2);
      parentPort.postMessage(C);
    `;
    const rng = new Rng(99);
    const [M, N, K] = [70, 300, 260];
    const A = randomFloats(rng, M * K);
    const B = randomFloats(rng, N * K);
    const here = new Float32Array(M * N);
    setGemmBackend('native');
    gemm(false, true, M, N, K, A, B, here, false);
    const run = (): Promise<Float32Array> =>
      new Promise((resolve, reject) => {
        const w = new Worker(src, { eval: true, workerData: { path: native.path, M, N, K, A, B } });
        w.once('message', (c: Float32Array) => {
          resolve(c);
          void w.terminate();
        });
        w.once('error', reject);
      });
    const [c1, c2] = await Promise.all([run(), run()]);
    expect(Buffer.from(c1.buffer).equals(Buffer.from(here.buffer))).toBe(true);
    expect(Buffer.from(c2.buffer).equals(Buffer.from(here.buffer))).toBe(true);
  });
});

describe('gemm argument checks', () => {
  test('a buffer too short for its matrix is an EngineError naming it', () => {
    const A = new Float32Array(6);
    const B = new Float32Array(5);
    const C = new Float32Array(4);
    expect(() => gemm(false, false, 2, 2, 3, A, B, C, false)).toThrow(EngineError);
    expect(() => gemm(false, false, 2, 2, 3, A, B, C, false)).toThrow(/B holds 5 floats/);
  });

  test('negative or fractional dims are rejected', () => {
    const z = new Float32Array(16);
    expect(() => gemm(false, false, -1, 2, 2, z, z, z, false)).toThrow(/M must be/);
    expect(() => gemm(false, false, 2, 1.5, 2, z, z, z, false)).toThrow(/N must be/);
  });

  test('thread counts outside 1..64 are rejected', () => {
    expect(() => setGemmThreads(0)).toThrow(EngineError);
    expect(() => setGemmThreads(2.5)).toThrow(EngineError);
  });

  test.skipIf(native.available)('asking for native without the addon says why', () => {
    expect(() => setGemmBackend('native')).toThrow(/unavailable/);
  });
});
