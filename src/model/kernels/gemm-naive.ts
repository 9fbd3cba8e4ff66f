/**
 * The reference matrix multiply: plain triple loop with float64 accumulation. Every fast gemm
 * path (blocked JS, native addon) is checked against this one; it is never used for speed.
 */

/**
 * C (M×N) = op(A)·op(B) (+ C when `accumulate`), summing each dot product in float64.
 * Same layout contract as {@link gemm}; does no argument validation of its own.
 */
export function gemmNaiveUnchecked(
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
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        // op(A)[i,k]: A is M×K, or K×M when transposed. op(B)[k,j]: B is K×N, or N×K.
        const a = transA ? A[k * M + i] : A[i * K + k];
        const b = transB ? B[j * K + k] : B[k * N + j];
        sum += a * b;
      }
      C[i * N + j] = accumulate ? C[i * N + j] + sum : sum;
    }
  }
}
