/**
 * The pure-JavaScript gemm: the fallback used when the native addon is not built (or is switched
 * off). Cache-blocked and register-blocked so V8 keeps the hot values in locals, but still one
 * thread and scalar float math: expect a few GFLOP/s, two orders of magnitude below the addon.
 *
 * Two loop orders, chosen by the layout of B, so the innermost loop always walks memory
 * contiguously:
 *  - B stored K×N (no transB): "ikj" — each op(A)[i,k] scales row k of B into row i of C.
 *  - B stored N×K (transB): dot products — row i of op(A) against row j of B, both along k.
 * Results depend only on the shapes and inputs, never on timing: the fallback is deterministic.
 */

// Column block of C/B for the ikj order: 4 rows × JB floats of C stay in L1, KB×JB of B in L2.
const JB = 1024;
const KB = 128;

/** C = op(A)·op(B) (+ C) in plain JS; same contract as `gemm`, no validation. */
export function gemmJs(
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
  if (!accumulate) C.fill(0, 0, M * N);
  if (M === 0 || N === 0 || K === 0) return;
  if (transB) gemmDotRows(transA, M, N, K, A, B, C);
  else gemmIkj(transA, M, N, K, A, B, C);
}

/** op(A)[i,k] without branching in the caller: A is M×K (row stride K) or K×M (column stride M). */
function strides(transA: boolean, M: number, K: number): { rowStride: number; kStride: number } {
  return transA ? { rowStride: 1, kStride: M } : { rowStride: K, kStride: 1 };
}

/** C += op(A)·B with B stored K×N, four rows of C at a time. */
function gemmIkj(
  transA: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
): void {
  const { rowStride: rs, kStride: ks } = strides(transA, M, K);
  for (let j0 = 0; j0 < N; j0 += JB) {
    const j1 = Math.min(N, j0 + JB);
    for (let k0 = 0; k0 < K; k0 += KB) {
      const k1 = Math.min(K, k0 + KB);
      let i = 0;
      for (; i + 4 <= M; i += 4) {
        const c0 = i * N;
        const c1 = c0 + N;
        const c2 = c1 + N;
        const c3 = c2 + N;
        for (let k = k0; k < k1; k++) {
          const aOff = i * rs + k * ks;
          const a0 = A[aOff];
          const a1 = A[aOff + rs];
          const a2 = A[aOff + 2 * rs];
          const a3 = A[aOff + 3 * rs];
          const bOff = k * N;
          for (let j = j0; j < j1; j++) {
            const b = B[bOff + j];
            C[c0 + j] += a0 * b;
            C[c1 + j] += a1 * b;
            C[c2 + j] += a2 * b;
            C[c3 + j] += a3 * b;
          }
        }
      }
      for (; i < M; i++) {
        const c0 = i * N;
        for (let k = k0; k < k1; k++) {
          const a0 = A[i * rs + k * ks];
          const bOff = k * N;
          for (let j = j0; j < j1; j++) C[c0 + j] += a0 * B[bOff + j];
        }
      }
    }
  }
}

/** C += op(A)·Bᵀ with B stored N×K: one row of op(A) against four rows of B per pass. */
function gemmDotRows(
  transA: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
): void {
  // A row of op(A) must be contiguous along k; when A is stored K×M, copy it out first.
  const packed = transA ? new Float32Array(K) : null;
  for (let i = 0; i < M; i++) {
    let arow: Float32Array;
    if (packed) {
      for (let k = 0; k < K; k++) packed[k] = A[k * M + i];
      arow = packed;
    } else {
      arow = A.subarray(i * K, i * K + K);
    }
    const cOff = i * N;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = j * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < K; k++) {
        const a = arow[k];
        s0 += a * B[b0 + k];
        s1 += a * B[b1 + k];
        s2 += a * B[b2 + k];
        s3 += a * B[b3 + k];
      }
      C[cOff + j] += s0;
      C[cOff + j + 1] += s1;
      C[cOff + j + 2] += s2;
      C[cOff + j + 3] += s3;
    }
    for (; j < N; j++) {
      const b0 = j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += arow[k] * B[b0 + k];
      C[cOff + j] += s;
    }
  }
}
