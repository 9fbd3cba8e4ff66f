/**
 * Segmented attention (a packed sequence: a shared prefix followed by several continuations of
 * it): each segment's rows must equal plain causal attention over the prefix followed by that
 * segment alone, forward and backward, with the prefix's dk/dv summing every segment's share.
 * Checked for the native kernel and the loops against the plain-loop reference, and the loops
 * against finite differences.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { maxScaledError, numericalGrad, randn } from '../testing/gradcheck.ts';
import { attentionBackward, attentionForward } from './attention.ts';
import type { AttentionSegments } from './flash-attention.ts';
import {
  attentionBackwardLoops,
  attentionForwardLoops,
  flashAttentionBackward,
  flashAttentionForward,
} from './flash-attention.ts';
import { activeNativeAddon, gemmBackend, setGemmBackend } from './gemm.ts';
import { testableGemmBackends } from '../testing/gemm-backends.ts';

const saved = gemmBackend();
afterAll(() => setGemmBackend(saved));
const backends = testableGemmBackends();
const nativeBuilt = backends.includes('native');

function rand(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

// stated tolerance: as the flash attention test (float32 blocked online softmax vs float64 loops)
const close = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  maxScaledError(a, b, 2e-5, 2e-4);

/** Segments of a prefix of P rows followed by continuations of the given lengths. */
function segmentsOf(P: number, lens: readonly number[]): AttentionSegments {
  const N = P + lens.reduce((s, n) => s + n, 0);
  const segStart = new Int32Array(N);
  let r = P;
  for (const n of lens) {
    for (let j = 0; j < n; j++) segStart[r + j] = r;
    r += n;
  }
  return { prefix: P, segStart };
}

/** Rows `rows` of a (T, W) layout, concatenated. */
function gatherRows(x: Float32Array, rows: readonly number[], W: number): Float32Array {
  const out = new Float32Array(rows.length * W);
  rows.forEach((r, i) => out.set(x.subarray(r * W, (r + 1) * W), i * W));
  return out;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

describe.each(backends)('segmented attention (%s) equals each segment run alone', (backend) => {
  test.each([
    { P: 5, lens: [3, 1, 4], NH: 4, NKV: 2, HD: 8 },
    { P: 0, lens: [6, 2], NH: 2, NKV: 1, HD: 4 }, // nothing shared: independent sequences
    { P: 7, lens: [0, 5, 0], NH: 2, NKV: 2, HD: 4 }, // empty continuations
    // SmolLM2's head size and GQA ratio; the segments cross query (16) and key (64) block edges
    { P: 100, lens: [40, 70, 9], NH: 3, NKV: 1, HD: 64 },
    { P: 64, lens: [64, 1, 65], NH: 3, NKV: 1, HD: 16 },
  ])('P=$P lens=$lens NH=$NH NKV=$NKV HD=$HD', ({ P, lens, NH, NKV, HD }) => {
    setGemmBackend(backend);
    const seg = segmentsOf(P, lens);
    const N = seg.segStart.length;
    const QD = NH * HD;
    const KD = NKV * HD;
    const rng = new Rng(N * 7 + P);
    const q = rand(N * QD, rng);
    const k = rand(N * KD, rng);
    const v = rand(N * KD, rng);
    const dout = rand(N * QD, rng);
    const out = new Float32Array(N * QD).fill(7);
    const lse = new Float32Array(NH * N);
    flashAttentionForward(out, lse, q, k, v, N, N, NH, NKV, HD, seg);
    const dq = new Float32Array(N * QD);
    const dk = new Float32Array(N * KD);
    const dv = new Float32Array(N * KD);
    flashAttentionBackward(dq, dk, dv, dout, q, k, v, out, lse, N, N, NH, NKV, HD, seg);

    // the reference: prefix alone, then each segment as queries after the prefix's keys
    const dqR = new Float32Array(N * QD);
    const dkR = new Float32Array(N * KD);
    const dvR = new Float32Array(N * KD);
    const outR = new Float32Array(N * QD);
    const parts: number[][] = [range(0, P)];
    let r = P;
    for (const n of lens) {
      parts.push(range(r, r + n));
      r += n;
    }
    parts.forEach((own, i) => {
      if (own.length === 0) return;
      const keys = i === 0 ? own : [...range(0, P), ...own];
      const [Tq, Tk] = [own.length, keys.length];
      const o = new Float32Array(Tq * QD);
      const att = new Float32Array(NH * Tq * Tk);
      const [qs, ks, vs] = [
        gatherRows(q, own, QD),
        gatherRows(k, keys, KD),
        gatherRows(v, keys, KD),
      ];
      attentionForward(o, att, qs, ks, vs, Tq, Tk, NH, NKV, HD);
      const [gq, gk, gv] = [
        new Float32Array(Tq * QD),
        new Float32Array(Tk * KD),
        new Float32Array(Tk * KD),
      ];
      attentionBackward(
        gq,
        gk,
        gv,
        gatherRows(dout, own, QD),
        qs,
        ks,
        vs,
        att,
        Tq,
        Tk,
        NH,
        NKV,
        HD,
      );
      own.forEach((row, j) => {
        outR.set(o.subarray(j * QD, (j + 1) * QD), row * QD);
        dqR.set(gq.subarray(j * QD, (j + 1) * QD), row * QD);
      });
      keys.forEach((row, j) => {
        for (let x = 0; x < KD; x++) {
          dkR[row * KD + x] += gk[j * KD + x];
          dvR[row * KD + x] += gv[j * KD + x];
        }
      });
    });
    expect(close(out, outR), 'out').toBeLessThanOrEqual(1);
    expect(close(dq, dqR), 'dq').toBeLessThanOrEqual(1);
    expect(close(dk, dkR), 'dk').toBeLessThanOrEqual(1);
    expect(close(dv, dvR), 'dv').toBeLessThanOrEqual(1);
  });
});

test('segmented loop attention backward matches finite differences', () => {
  const [NH, NKV, HD] = [4, 2, 4];
  const seg = segmentsOf(3, [2, 3]);
  const N = seg.segStart.length;
  const rng = new Rng(9);
  const q = randn(N * NH * HD, rng);
  const k = randn(N * NKV * HD, rng);
  const v = randn(N * NKV * HD, rng);
  const G = randn(N * NH * HD, rng);
  const out = new Float64Array(N * NH * HD);
  const lse = new Float64Array(NH * N);
  const fwd = (): Float64Array => {
    attentionForwardLoops(out, lse, q, k, v, N, N, NH, NKV, HD, seg);
    return out;
  };
  fwd();
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  attentionBackwardLoops(dq, dk, dv, G, q, k, v, out, lse, N, N, NH, NKV, HD, seg);
  for (const [a, x] of [
    [dq, q],
    [dk, k],
    [dv, v],
  ] as const) {
    expect(maxScaledError(a, numericalGrad(x, G, fwd), 1e-6, 1e-5)).toBeLessThanOrEqual(1);
  }
});

describe.skipIf(!nativeBuilt)('native segmented attention', () => {
  test('refuses a row whose segment starts after it', () => {
    setGemmBackend('native');
    const addon = activeNativeAddon();
    if (!addon) throw new Error('native addon expected');
    const f = (n: number): Float32Array => new Float32Array(n);
    const bad = Int32Array.from([0, 2, 1]);
    expect(() =>
      addon.attnForward(f(12), f(12), f(12), f(12), f(3), 3, 3, 1, 1, 4, 1, bad, 1),
    ).toThrow(/segStart/);
  });
});
