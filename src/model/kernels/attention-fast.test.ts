import { describe, expect, test } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { attentionBackward, attentionForward } from './attention.ts';
import { attentionBackwardFast, attentionForwardFast } from './attention-fast.ts';

function rand(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

function maxErr(a: Float32Array, b: Float32Array): { abs: number; ok: boolean } {
  let abs = 0;
  let ok = true;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    abs = Math.max(abs, d);
    // stated tolerance: 1e-5 absolute + 1e-4 relative (float32, different summation order)
    if (d > 1e-5 + 1e-4 * Math.abs(b[i])) ok = false;
  }
  return { abs, ok };
}

describe('gemm attention matches the plain-loop reference', () => {
  test.each([
    [1, 1, 1, 1, 4],
    [7, 7, 4, 2, 8],
    [33, 33, 4, 1, 16],
    [5, 12, 2, 2, 8], // queries after a cached prefix
    [70, 70, 6, 3, 32],
  ])('Tq=%i Tk=%i NH=%i NKV=%i HD=%i', (Tq, Tk, NH, NKV, HD) => {
    const rng = new Rng(Tq * 31 + Tk);
    const q = rand(Tq * NH * HD, rng);
    const k = rand(Tk * NKV * HD, rng);
    const v = rand(Tk * NKV * HD, rng);
    const dout = rand(Tq * NH * HD, rng);
    const outR = new Float32Array(Tq * NH * HD);
    const attR = new Float32Array(NH * Tq * Tk);
    const outF = new Float32Array(Tq * NH * HD);
    const attF = new Float32Array(NH * Tq * Tk).fill(9); // stale values must be overwritten
    attentionForward(outR, attR, q, k, v, Tq, Tk, NH, NKV, HD);
    attentionForwardFast(outF, attF, q, k, v, Tq, Tk, NH, NKV, HD);
    expect(maxErr(outF, outR).ok).toBe(true);
    expect(maxErr(attF, attR).ok).toBe(true);

    // backward accumulates: start both from the same non-zero gradients
    const seed = (n: number) => rand(n, new Rng(n));
    const [dqR, dkR, dvR] = [seed(q.length), seed(k.length), seed(v.length)];
    const [dqF, dkF, dvF] = [dqR.slice(), dkR.slice(), dvR.slice()];
    attentionBackward(dqR, dkR, dvR, dout, q, k, v, attR, Tq, Tk, NH, NKV, HD);
    attentionBackwardFast(dqF, dkF, dvF, dout, q, k, v, attF, Tq, Tk, NH, NKV, HD);
    for (const [f, r] of [
      [dqF, dqR],
      [dkF, dkR],
      [dvF, dvR],
    ] as const) {
      const e = maxErr(f, r);
      expect(e.ok, `max abs error ${e.abs}`).toBe(true);
    }
  });
});
