/**
 * Test support: central finite differences in float64 against a kernel's analytic backward.
 * The scalar checked is L = Σ G ⊙ forward(inputs) for a fixed random G, so d(out) = G.
 */
import { Rng } from '../../core/rng.ts';

/** A float64 vector of normal(0, scale) values. */
export function randn(n: number, rng: Rng, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

/** Largest |a − b| / (atol + rtol·|b|) over the arrays (≤ 1 means within tolerance). */
export function maxScaledError(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  atol: number,
  rtol: number,
): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
}

/**
 * Numerical gradient of L = Σ G·forward() w.r.t. every element of `x` (perturbed in place and
 * restored). `forward` must read `x` and return the output.
 */
export function numericalGrad(
  x: Float64Array,
  G: Float64Array,
  forward: () => ArrayLike<number>,
  eps = 1e-5,
): Float64Array {
  const grad = new Float64Array(x.length);
  const loss = (): number => {
    const out = forward();
    let s = 0;
    for (let i = 0; i < G.length; i++) s += G[i] * out[i];
    return s;
  };
  for (let i = 0; i < x.length; i++) {
    const old = x[i];
    x[i] = old + eps;
    const lp = loss();
    x[i] = old - eps;
    const lm = loss();
    x[i] = old;
    grad[i] = (lp - lm) / (2 * eps);
  }
  return grad;
}
