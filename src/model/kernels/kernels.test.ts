/**
 * Every backward kernel against central finite differences in float64 (tolerance: |analytic −
 * numeric| ≤ 1e-6 + 1e-5·|numeric|), and the gemm-based linear layer against its naive twin.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { maxScaledError, numericalGrad, randn } from '../testing/gradcheck.ts';
import { attentionBackward, attentionForward } from './attention.ts';
import { embeddingBackward, embeddingForward } from './embedding.ts';
import {
  linearBackward,
  linearBackwardNaive,
  linearForward,
  linearForwardNaive,
} from './linear.ts';
import {
  logSoftmaxRow,
  tokenLogprobBackward,
  tokenLogprobBackwardInPlace,
  tokenLogprobForward,
} from './logprobs.ts';
import { rmsnormBackward, rmsnormForward } from './rmsnorm.ts';
import { ropeBackward, ropeForward, ropeInvFreq } from './rope.ts';
import { swigluBackward, swigluForward } from './swiglu.ts';

const ATOL = 1e-6;
const RTOL = 1e-5;

function expectClose(
  analytic: ArrayLike<number>,
  numeric: ArrayLike<number>,
  atol = ATOL,
  rtol = RTOL,
): void {
  expect(maxScaledError(analytic, numeric, atol, rtol)).toBeLessThanOrEqual(1);
}

describe('finite-difference checks (float64)', () => {
  it('rmsnorm backward matches finite differences for input and weight', () => {
    const rng = new Rng(1);
    const N = 3;
    const D = 5;
    const x = randn(N * D, rng);
    const w = randn(D, rng);
    const G = randn(N * D, rng);
    const out = new Float64Array(N * D);
    const rstd = new Float64Array(N);
    const fwd = (): Float64Array => {
      rmsnormForward(out, rstd, x, w, N, D, 1e-6);
      return out;
    };
    fwd();
    const dx = new Float64Array(N * D);
    const dw = new Float64Array(D);
    rmsnormBackward(dx, dw, G, x, w, rstd, N, D);
    expectClose(dx, numericalGrad(x, G, fwd));
    expectClose(dw, numericalGrad(w, G, fwd));
  });

  it('rope backward matches finite differences, and rope preserves each pair norm', () => {
    const rng = new Rng(2);
    const T = 4;
    const H = 2;
    const HD = 6;
    const inv = ropeInvFreq(10_000, HD);
    const x = randn(T * H * HD, rng);
    const G = randn(T * H * HD, rng);
    const out = new Float64Array(T * H * HD);
    const fwd = (): Float64Array => {
      ropeForward(out, x, T, H, HD, 3, 1, inv);
      return out;
    };
    fwd();
    let nIn = 0;
    let nOut = 0;
    for (let i = 0; i < x.length; i++) {
      nIn += x[i] * x[i];
      nOut += out[i] * out[i];
    }
    expect(Math.abs(nIn - nOut)).toBeLessThan(1e-9);
    const dx = new Float64Array(x.length);
    ropeBackward(dx, G, T, H, HD, 3, 1, inv);
    expectClose(dx, numericalGrad(x, G, fwd));
  });

  it('rope at position 0 is the identity and follows the rotate_half pairing', () => {
    const HD = 4;
    const inv = ropeInvFreq(10_000, HD);
    const x = new Float64Array([1, 2, 3, 4]);
    const out = new Float64Array(4);
    ropeForward(out, x, 1, 1, HD, 0, 1, inv);
    expect(Array.from(out)).toEqual([1, 2, 3, 4]);
    // Position 1, pair 0 (dims 0 and 2) rotates by 1 rad: a' = a·cos1 − b·sin1.
    ropeForward(out, x, 1, 1, HD, 1, 1, inv);
    expect(out[0]).toBeCloseTo(1 * Math.cos(1) - 3 * Math.sin(1), 12);
    expect(out[2]).toBeCloseTo(3 * Math.cos(1) + 1 * Math.sin(1), 12);
  });

  it.each([
    { name: 'MHA', NH: 2, NKV: 2, Tq: 4, Tk: 4 },
    { name: 'GQA', NH: 4, NKV: 2, Tq: 5, Tk: 5 },
    { name: 'GQA with past keys', NH: 4, NKV: 1, Tq: 2, Tk: 5 },
  ])('attention backward matches finite differences ($name)', ({ NH, NKV, Tq, Tk }) => {
    const rng = new Rng(3);
    const HD = 4;
    const q = randn(Tq * NH * HD, rng);
    const k = randn(Tk * NKV * HD, rng);
    const v = randn(Tk * NKV * HD, rng);
    const G = randn(Tq * NH * HD, rng);
    const out = new Float64Array(Tq * NH * HD);
    const att = new Float64Array(NH * Tq * Tk);
    const fwd = (): Float64Array => {
      attentionForward(out, att, q, k, v, Tq, Tk, NH, NKV, HD);
      return out;
    };
    fwd();
    const dq = new Float64Array(q.length);
    const dk = new Float64Array(k.length);
    const dv = new Float64Array(v.length);
    attentionBackward(dq, dk, dv, G, q, k, v, att, Tq, Tk, NH, NKV, HD);
    expectClose(dq, numericalGrad(q, G, fwd));
    expectClose(dk, numericalGrad(k, G, fwd));
    expectClose(dv, numericalGrad(v, G, fwd));
  });

  it('attention is causal: the first query only sees the first key', () => {
    const HD = 2;
    const q = new Float64Array([1, 0, 1, 0]);
    const k = new Float64Array([1, 0, 5, 5]);
    const v = new Float64Array([7, 8, 100, 100]);
    const out = new Float64Array(4);
    const att = new Float64Array(4);
    attentionForward(out, att, q, k, v, 2, 2, 1, 1, HD);
    expect(Array.from(out.subarray(0, 2))).toEqual([7, 8]);
    expect(att[1]).toBe(0);
  });

  it('swiglu backward matches finite differences', () => {
    const rng = new Rng(4);
    const n = 7;
    const gate = randn(n, rng, 2);
    const up = randn(n, rng);
    const G = randn(n, rng);
    const out = new Float64Array(n);
    const fwd = (): Float64Array => {
      swigluForward(out, gate, up, n);
      return out;
    };
    const dg = new Float64Array(n);
    const du = new Float64Array(n);
    swigluBackward(dg, du, G, gate, up, n);
    expectClose(dg, numericalGrad(gate, G, fwd));
    expectClose(du, numericalGrad(up, G, fwd));
  });

  it('embedding backward scatter-adds repeated tokens', () => {
    const rng = new Rng(5);
    const V = 4;
    const C = 3;
    const tokens = [2, 0, 2];
    const wte = randn(V * C, rng);
    const G = randn(tokens.length * C, rng);
    const out = new Float64Array(tokens.length * C);
    const fwd = (): Float64Array => {
      embeddingForward(out, tokens, wte, tokens.length, C);
      return out;
    };
    const dw = new Float64Array(V * C);
    embeddingBackward(dw, G, tokens, tokens.length, C);
    expectClose(dw, numericalGrad(wte, G, fwd));
    expect(dw[2 * C]).toBeCloseTo(G[0] + G[2 * C], 12);
  });

  it('token logprob backward matches finite differences', () => {
    const rng = new Rng(6);
    const R = 3;
    const V = 6;
    const logits = randn(R * V, rng, 2);
    const targets = [1, 5, 0];
    const G = randn(R, rng);
    const lp = new Float64Array(R);
    const lse = new Float64Array(R);
    const fwd = (): Float64Array => {
      tokenLogprobForward(lp, lse, logits, targets, R, V);
      return lp;
    };
    fwd();
    const dl = new Float64Array(R * V);
    tokenLogprobBackward(dl, G, logits, lse, targets, R, V);
    expectClose(dl, numericalGrad(logits, G, fwd));
    // The fast in-place backward over saved softmax equals the reference.
    const probs = new Float64Array(R * V);
    tokenLogprobForward(lp, lse, logits, targets, R, V, probs);
    tokenLogprobBackwardInPlace(probs, G, targets, R, V);
    expect(maxScaledError(probs, dl, 1e-12, 1e-9)).toBeLessThanOrEqual(1);
    const full = new Float64Array(V);
    logSoftmaxRow(full, logits, V, V);
    expect(full[5]).toBeCloseTo(lp[1], 12);
  });

  it('naive linear backward matches finite differences', () => {
    const rng = new Rng(7);
    const N = 3;
    const I = 4;
    const O = 5;
    const x = randn(N * I, rng);
    const W = randn(O * I, rng);
    const G = randn(N * O, rng);
    const out = new Float64Array(N * O);
    const fwd = (): Float64Array => {
      linearForwardNaive(out, x, W, N, I, O);
      return out;
    };
    const dx = new Float64Array(N * I);
    const dW = new Float64Array(O * I);
    linearBackwardNaive(dx, dW, G, x, W, N, I, O);
    expectClose(dx, numericalGrad(x, G, fwd));
    expectClose(dW, numericalGrad(W, G, fwd));
  });
});

describe('fast kernels against their naive references (float32)', () => {
  it('gemm-based linear forward and accumulating backward match the naive loops', () => {
    const rng = new Rng(8);
    const N = 7;
    const I = 13;
    const O = 11;
    const x = Float32Array.from(randn(N * I, rng));
    const W = Float32Array.from(randn(O * I, rng));
    const G = Float32Array.from(randn(N * O, rng));
    const fast = new Float32Array(N * O);
    const ref = new Float64Array(N * O);
    linearForward(fast, x, W, N, I, O);
    linearForwardNaive(ref, x, W, N, I, O);
    expect(maxScaledError(fast, ref, 1e-5, 1e-5)).toBeLessThanOrEqual(1);
    // Backward accumulates: start both from the same non-zero gradients.
    const dxFast = new Float32Array(N * I).fill(0.5);
    const dWFast = new Float32Array(O * I).fill(-0.25);
    const dxRef = new Float64Array(N * I).fill(0.5);
    const dWRef = new Float64Array(O * I).fill(-0.25);
    linearBackward(dxFast, dWFast, G, x, W, N, I, O);
    linearBackwardNaive(dxRef, dWRef, G, x, W, N, I, O);
    expect(maxScaledError(dxFast, dxRef, 1e-5, 1e-5)).toBeLessThanOrEqual(1);
    expect(maxScaledError(dWFast, dWRef, 1e-5, 1e-5)).toBeLessThanOrEqual(1);
  });
});
