/**
 * The matrix multiply every model kernel calls. One entry point, `gemm`, with BLAS-like
 * transpose flags over row-major contiguous Float32Arrays, and two backends behind it:
 *  - 'native': a C addon (AVX-512/AVX2 register-blocked micro-kernel over packed panels, cache
 *    blocking, up to N threads splitting C into disjoint blocks; products of ≤ 8 rows skip the
 *    packing and run direct dot/axpy kernels) — loaded when it was built;
 *  - 'js': a blocked pure-JS loop, always available.
 * Both are deterministic: the same inputs give the same bits on every call, and for the native
 * path regardless of the thread count (threads never share a sum). The two backends round
 * differently, so they agree only to a tolerance. `gemmNaive` is the float64 reference.
 * `gemmRows` is `gemm` with row results that never depend on M (for batched decoding).
 *
 * This module does not read the environment: the CLI maps `SPELL_NATIVE=0` to
 * `setGemmBackend('js')`, and code that runs the model in a worker must forward that choice.
 */
import { availableParallelism } from 'node:os';
import { EngineError } from '../../core/index.ts';
import { gemmJs } from './gemm-js.ts';
import { gemmNaiveUnchecked } from './gemm-naive.ts';
import { loadNativeGemm } from './gemm-native.ts';
import type { NativeGemmAddon, NativeGemmInfo, NativeLoad } from './gemm-native.ts';

/** Which implementation `gemm` dispatches to. */
export type GemmBackend = 'native' | 'js';

const native: NativeLoad = loadNativeGemm();
let backend: GemmBackend = native.ok ? 'native' : 'js';
// Two cores on the reference machine; more threads than cores only adds contention.
let threads = Math.max(1, Math.min(availableParallelism(), 8));

/** Throws unless the dims are non-negative integers and each buffer holds its matrix. */
function checkArgs(
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
): void {
  for (const [name, v] of [
    ['M', M],
    ['N', N],
    ['K', K],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new EngineError(`gemm: ${name} must be a non-negative integer, got ${v}`);
    }
  }
  const need = (name: string, buf: Float32Array, n: number, shape: string): void => {
    if (buf.length < n) {
      throw new EngineError(
        `gemm: ${name} holds ${buf.length} floats, expected at least ${n} (${shape})`,
      );
    }
  };
  need('A', A, M * K, `${M}×${K}`);
  need('B', B, K * N, `${K}×${N}`);
  need('C', C, M * N, `${M}×${N}`);
}

/**
 * C (M×N) = op(A)·op(B) (+ C when accumulate). Row-major, contiguous. op(A) is M×K: A is stored
 * M×K, or K×M when transA. op(B) is K×N: B is stored K×N, or N×K when transB. Views (subarray)
 * are fine; only the first M·N elements of C are written. C must not overlap A or B.
 * @throws EngineError on a negative/non-integer dim or a buffer too short for its matrix.
 * @example
 * // y (T×out) = x (T×in) · Wᵀ, with W stored out×in as in HF checkpoints
 * gemm(false, true, T, out, inp, x, W, y, false);
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  accumulate: boolean,
): void {
  dispatch(transA, transB, M, N, K, A, B, C, accumulate, false);
}

/**
 * {@link gemm} with one more guarantee: each row of C has exactly the bits it would have if that
 * row of op(A) were multiplied alone (M = 1). Plain `gemm` only promises that for M ≤ 8 and for
 * M > 8 separately, because the native addon switches from its direct kernels to packed panels
 * (a different summation order for transB). The batched sampler uses this so a sample's tokens
 * never depend on which other samples or requests share its decode step. The JS backend is
 * row-stable already (each row is its own loop).
 * @throws EngineError on a negative/non-integer dim or a buffer too short for its matrix.
 */
export function gemmRows(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  accumulate: boolean,
): void {
  dispatch(transA, transB, M, N, K, A, B, C, accumulate, true);
}

/** Validate, then run on the active backend (the JS path is row-stable by construction). */
function dispatch(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  accumulate: boolean,
  rowStable: boolean,
): void {
  checkArgs(M, N, K, A, B, C);
  if (backend === 'native' && native.ok) {
    native.addon.sgemm(transA, transB, M, N, K, A, B, C, accumulate, threads, rowStable);
  } else {
    gemmJs(transA, transB, M, N, K, A, B, C, accumulate);
  }
}

/**
 * The reference: plain loops, float64 accumulation, one rounding per output. Slow; for tests.
 * Same contract and validation as {@link gemm}.
 */
export function gemmNaive(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  accumulate: boolean,
): void {
  checkArgs(M, N, K, A, B, C);
  gemmNaiveUnchecked(transA, transB, M, N, K, A, B, C, accumulate);
}

/**
 * The loaded addon when the native backend is active, else null: the other native kernels
 * (attention) follow the same backend switch as `gemm`.
 */
export function activeNativeAddon(): NativeGemmAddon | null {
  return backend === 'native' && native.ok ? native.addon : null;
}

/** Which path `gemm` currently uses. */
export function gemmBackend(): GemmBackend {
  return backend;
}

/**
 * Force a backend. 'js' always works; 'native' throws when the addon is not loaded.
 * @throws EngineError when 'native' is requested but unavailable (the message says why).
 */
export function setGemmBackend(which: GemmBackend): void {
  if (which === 'native' && !native.ok) {
    throw new EngineError(
      `gemm: native backend requested but unavailable: ${native.reason} — run \`npm run build:native\``,
    );
  }
  backend = which;
}

/** Whether the native addon loaded, with its kernel info or the reason it did not. */
export function nativeGemmStatus():
  { available: true; info: NativeGemmInfo; path: string } | { available: false; reason: string } {
  return native.ok
    ? { available: true, info: native.addon.info(), path: native.path }
    : { available: false, reason: native.reason };
}

/** Threads the native backend may use per call (results are identical for any count). */
export function gemmThreads(): number {
  return threads;
}

/**
 * Set the native backend's thread count (≥ 1). Lower it when several workers call gemm at once.
 * @throws EngineError on a non-integer or a count < 1.
 */
export function setGemmThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new EngineError(`gemm: thread count must be an integer in 1..64, got ${n}`);
  }
  threads = n;
}
