/**
 * The array type loop kernels accept: float32 for the engine, float64 for the finite-difference
 * gradient checks (the same code runs in both precisions, so the check tests the real kernel).
 */
export type Floats = Float32Array | Float64Array;

/** out[i] += a[i] for i < n (the backward of a residual add, and gradient accumulation). */
export function addInto(out: Floats, a: Floats, n: number): void {
  for (let i = 0; i < n; i++) out[i] += a[i];
}
