// The few-row paths of gemm: the native addon's direct (unpacked) kernels for M ≤ 8 against the
// float64 reference on every transpose combination, and the bit-level guarantees the batched
// sampler relies on: `gemmRows` gives each row the bits it gets alone, whatever M, the thread
// count or the backend; and for op(B) stored K×N the direct path reproduces the packed path.
import { afterEach, describe, expect, test } from 'vitest';
import { Rng } from '../../core/index.ts';
import {
  gemm,
  gemmBackend,
  gemmNaive,
  gemmRows,
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

const native = nativeGemmStatus();
const backends: GemmBackend[] = native.available ? ['native', 'js'] : ['js'];
const COMBOS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

function randomFloats(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

/** Row i of op(A) as its own 1×K matrix (stored as op(A) expects for transA). */
function rowOf(A: Float32Array, i: number, M: number, K: number, transA: boolean): Float32Array {
  const out = new Float32Array(K);
  for (let k = 0; k < K; k++) out[k] = transA ? A[k * M + i] : A[i * K + k];
  return out;
}

function bits(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

// N and K off the vector width (16) and across the 256-deep K slab, so every tail is exercised.
const SIZES: [number, number][] = [
  [1, 1],
  [3, 17],
  [17, 5],
  [33, 130],
  [130, 33],
  [70, 300],
  [2000, 128],
];

describe.each(backends)('few-row gemm (%s)', (backend) => {
  test.each(COMBOS)(
    'M = 1..8 matches the float64 reference, accumulate on and off (transA=%s, transB=%s)',
    (transA, transB) => {
      setGemmBackend(backend);
      const rng = new Rng(transA ? (transB ? 4 : 3) : transB ? 2 : 1);
      for (let M = 1; M <= 8; M++) {
        for (const [N, K] of SIZES) {
          const A = randomFloats(rng, M * K);
          const B = randomFloats(rng, K * N);
          const C0 = randomFloats(rng, M * N);
          for (const accumulate of [false, true]) {
            for (const fn of [gemm, gemmRows]) {
              const got = C0.slice();
              const ref = C0.slice();
              fn(transA, transB, M, N, K, A, B, got, accumulate);
              gemmNaive(transA, transB, M, N, K, A, B, ref, accumulate);
              let worst = 0;
              for (let i = 0; i < ref.length; i++) {
                const err = Math.abs(got[i] - ref[i]) / (1e-6 * K + 1e-5 * Math.abs(ref[i]));
                worst = Math.max(worst, err);
              }
              expect(worst, `M=${M} N=${N} K=${K} acc=${accumulate}`).toBeLessThanOrEqual(1);
            }
          }
        }
      }
    },
  );

  test.each(COMBOS)(
    'gemmRows: every row has the bits it has when computed alone, for any M (transA=%s, transB=%s)',
    (transA, transB) => {
      setGemmBackend(backend);
      const rng = new Rng(11);
      for (const [M, N, K] of [
        [5, 130, 33],
        [9, 384, 128],
        [37, 200, 70],
      ] as const) {
        const A = randomFloats(rng, M * K);
        const B = randomFloats(rng, K * N);
        const all = new Float32Array(M * N);
        gemmRows(transA, transB, M, N, K, A, B, all, false);
        for (let i = 0; i < M; i++) {
          const one = new Float32Array(N);
          gemmRows(transA, transB, 1, N, K, rowOf(A, i, M, K, transA), B, one, false);
          expect(bits(all.subarray(i * N, (i + 1) * N)).equals(bits(one)), `row ${i} of ${M}`).toBe(
            true,
          );
        }
      }
    },
  );
});

describe.skipIf(!native.available)('native few-row paths', () => {
  test('with op(B) stored K×N the direct path reproduces the packed path bit for bit', () => {
    setGemmBackend('native');
    const rng = new Rng(5);
    for (const transA of [false, true]) {
      for (const [N, K] of [
        [130, 33],
        [70, 300],
        [33, 600],
      ] as const) {
        const M = 20; // > 8: packed panels
        const A = randomFloats(rng, M * K);
        const B = randomFloats(rng, K * N);
        const packed = new Float32Array(M * N);
        gemm(transA, false, M, N, K, A, B, packed, false);
        for (let i = 0; i < M; i++) {
          const one = new Float32Array(N); // M = 1: the direct axpy kernel
          gemm(transA, false, 1, N, K, rowOf(A, i, M, K, transA), B, one, false);
          expect(bits(packed.subarray(i * N, (i + 1) * N)).equals(bits(one))).toBe(true);
        }
      }
    }
  });

  test.each(COMBOS)(
    'the direct paths give the same bits on 1, 2 and 3 threads (transA=%s, transB=%s)',
    (transA, transB) => {
      setGemmBackend('native');
      const rng = new Rng(9);
      const [M, N, K] = [6, 3001, 260]; // 9.4 MFLOP: above the threading threshold
      const A = randomFloats(rng, M * K);
      const B = randomFloats(rng, K * N);
      const C0 = randomFloats(rng, M * N);
      const runs = [1, 2, 3].map((t) => {
        setGemmThreads(t);
        const C = C0.slice();
        gemm(transA, transB, M, N, K, A, B, C, true);
        const R = C0.slice();
        gemmRows(transA, transB, M, N, K, A, B, R, true);
        expect(bits(R).equals(bits(C))).toBe(true);
        return bits(C);
      });
      expect(runs[0].equals(runs[1])).toBe(true);
      expect(runs[0].equals(runs[2])).toBe(true);
    },
  );
});
