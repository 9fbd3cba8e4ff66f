/**
 * The LoRA adapter pair: the naive backward against float64 finite differences, the gemm pair
 * against the naive pair, and the merge against the unmerged forward.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { maxScaledError, numericalGrad, randn } from '../testing/gradcheck.ts';
import { linearForward } from './linear.ts';
import {
  loraBackward,
  loraBackwardNaive,
  loraForward,
  loraForwardNaive,
  loraMergeInto,
} from './lora.ts';

const [N, I, O, r, s] = [5, 7, 6, 3, 1.7];

function close(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): void {
  expect(maxScaledError(a, b, atol, rtol)).toBeLessThanOrEqual(1);
}

describe('lora kernels', () => {
  it('naive backward matches finite differences (float64) for input, A and B', () => {
    const rng = new Rng(3);
    const x = randn(N * I, rng);
    const A = randn(r * I, rng);
    const B = randn(O * r, rng);
    const G = randn(N * O, rng);
    const out = new Float64Array(N * O);
    const fwd = (): Float64Array => {
      out.fill(0);
      loraForwardNaive(out, x, A, B, N, I, O, r, s);
      return out;
    };
    const dx = new Float64Array(N * I);
    const dA = new Float64Array(r * I);
    const dB = new Float64Array(O * r);
    loraBackwardNaive(dx, dA, dB, G, x, A, B, N, I, O, r, s);
    close(dx, numericalGrad(x, G, fwd), 1e-6, 1e-5);
    close(dA, numericalGrad(A, G, fwd), 1e-6, 1e-5);
    close(dB, numericalGrad(B, G, fwd), 1e-6, 1e-5);
  });

  it('the gemm pair matches the naive pair and accumulates', () => {
    const rng = new Rng(4);
    const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
    const x = f32(randn(N * I, rng));
    const A = f32(randn(r * I, rng));
    const B = f32(randn(O * r, rng));
    const G = f32(randn(N * O, rng));
    const base = f32(randn(N * O, rng));
    const out = base.slice();
    const us = new Float32Array(N * r);
    loraForward(out, us, x, A, B, N, I, O, r, s);
    const ref = Float64Array.from(base);
    loraForwardNaive(ref, x, A, B, N, I, O, r, s);
    close(out, ref, 1e-5, 1e-5);
    const seed = f32(randn(N * I + r * I + O * r, rng));
    const dx = seed.slice(0, N * I);
    const dA = seed.slice(N * I, N * I + r * I);
    const dB = seed.slice(N * I + r * I);
    loraBackward(dx, dA, dB, new Float32Array(N * r), G, x, us, A, B, N, I, O, r, s);
    const rx = Float64Array.from(seed.slice(0, N * I));
    const rA = Float64Array.from(seed.slice(N * I, N * I + r * I));
    const rB = Float64Array.from(seed.slice(N * I + r * I));
    loraBackwardNaive(rx, rA, rB, G, x, A, B, N, I, O, r, s);
    close(dx, rx, 1e-5, 1e-5);
    close(dA, rA, 1e-5, 1e-5);
    close(dB, rB, 1e-5, 1e-5);
  });

  it('a merged weight gives the base plus adapter output', () => {
    const rng = new Rng(5);
    const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
    const x = f32(randn(N * I, rng));
    const W = f32(randn(O * I, rng));
    const A = f32(randn(r * I, rng));
    const B = f32(randn(O * r, rng));
    const unmerged = new Float32Array(N * O);
    linearForward(unmerged, x, W, N, I, O);
    loraForward(unmerged, new Float32Array(N * r), x, A, B, N, I, O, r, s);
    const Wm = W.slice();
    loraMergeInto(Wm, A, B, I, O, r, s);
    const merged = new Float32Array(N * O);
    linearForward(merged, x, Wm, N, I, O);
    close(merged, unmerged, 1e-5, 1e-5);
  });
});
