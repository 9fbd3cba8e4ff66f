/**
 * The matmul part of `spell bench engine`: GFLOP/s of `gemm` on large square and tall-skinny
 * products and on the embedded model's own shapes, per backend and thread count, with the ratio
 * to the machine's fp32 FMA peak. Each shape is also checked once against the float64
 * reference on a corner of the output, so a fast wrong kernel cannot post a figure.
 */
import { Rng } from '../core/index.ts';
import {
  gemm,
  gemmBackend,
  gemmThreads,
  setGemmBackend,
  setGemmThreads,
} from '../model/kernels/gemm.ts';
import type { GemmBackend } from '../model/kernels/gemm.ts';
import { sig, timeRuns } from './timing.ts';

/** One product to time: C (M×N) = op(A)·op(B) with op(A) M×K. */
export interface MatmulShape {
  readonly name: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly transA: boolean;
  readonly transB: boolean;
}

/** One timed (shape, backend, threads) cell. */
export interface MatmulResult extends MatmulShape {
  readonly backend: GemmBackend;
  readonly threads: number;
  readonly gflops: number;
  readonly medianGflops: number;
  /** gflops / the two-core fp32 peak (475 GFLOP/s): the goal is ≥ 0.25. */
  readonly peakRatio: number;
  /** gflops / the fp32 peak of the `threads` cores used. */
  readonly corePeakRatio: number;
  readonly runs: number;
  /** Largest |C − reference| over the checked corner of C. */
  readonly maxAbsErr: number;
}

/** fp32 FMA peak measured on the reference machine (AVX-512, 2 FMA ports): GFLOP/s per core. */
export const PEAK_GFLOPS_PER_CORE = 238;
/** The two-core peak the goal (≥ 25 %) is stated against. */
export const PEAK_GFLOPS_TWO_CORES = 475;

/** The large products every run times. */
export const LARGE_SHAPES: readonly MatmulShape[] = [
  { name: 'square 1024³', M: 1024, N: 1024, K: 1024, transA: false, transB: false },
  { name: 'tall 64×4096·4096×1024', M: 64, N: 1024, K: 4096, transA: false, transB: false },
  { name: 'linear 512×2048·(2048×2048)ᵀ', M: 512, N: 2048, K: 2048, transA: false, transB: true },
  {
    name: 'weight grad (2048×512)ᵀ·2048×512',
    M: 512,
    N: 512,
    K: 2048,
    transA: true,
    transB: false,
  },
];

export interface MatmulBenchOptions {
  readonly shapes: readonly MatmulShape[];
  readonly backends: readonly GemmBackend[];
  /** Thread counts to try on the native backend (the JS backend is single-threaded). */
  readonly threads: readonly number[];
  /** Time budget per cell, milliseconds. */
  readonly budgetMs: number;
  readonly seed: number;
}

function randomFloats(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

/** Max |C − ref| over the top-left (≤ 8×8) corner, with the reference summed in float64. */
function cornerError(s: MatmulShape, A: Float32Array, B: Float32Array, C: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < Math.min(8, s.M); i++) {
    for (let j = 0; j < Math.min(8, s.N); j++) {
      let ref = 0;
      for (let k = 0; k < s.K; k++) {
        const a = s.transA ? A[k * s.M + i] : A[i * s.K + k];
        const b = s.transB ? B[j * s.K + k] : B[k * s.N + j];
        ref += a * b;
      }
      worst = Math.max(worst, Math.abs(C[i * s.N + j] - ref));
    }
  }
  return worst;
}

/** Time every (shape, backend, thread count) cell; restores the gemm settings afterwards. */
export function runMatmulBench(opts: MatmulBenchOptions): MatmulResult[] {
  const savedBackend = gemmBackend();
  const savedThreads = gemmThreads();
  const rng = new Rng(opts.seed);
  const results: MatmulResult[] = [];
  try {
    for (const s of opts.shapes) {
      const A = randomFloats(rng, s.M * s.K);
      const B = randomFloats(rng, s.K * s.N);
      const C = new Float32Array(s.M * s.N);
      const flops = 2 * s.M * s.N * s.K;
      for (const backend of opts.backends) {
        setGemmBackend(backend);
        for (const threads of backend === 'js' ? [1] : opts.threads) {
          setGemmThreads(threads);
          const run = (): void => gemm(s.transA, s.transB, s.M, s.N, s.K, A, B, C, false);
          // The JS path takes seconds on the large shapes: one timed run is enough there.
          const t = timeRuns(run, opts.budgetMs, 1, backend === 'js' ? 1 : 1000);
          const gflops = flops / t.best / 1e9;
          results.push({
            ...s,
            backend,
            threads,
            gflops: sig(gflops),
            medianGflops: sig(flops / t.median / 1e9),
            peakRatio: sig(gflops / PEAK_GFLOPS_TWO_CORES),
            corePeakRatio: sig(gflops / (PEAK_GFLOPS_PER_CORE * threads)),
            runs: t.runs,
            maxAbsErr: sig(cornerError(s, A, B, C), 2),
          });
        }
      }
    }
  } finally {
    setGemmBackend(savedBackend);
    setGemmThreads(savedThreads);
  }
  return results;
}
