import { afterAll, describe, expect, test } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { maxScaledError, numericalGrad, randn } from '../testing/gradcheck.ts';
import { attentionBackward, attentionForward } from './attention.ts';
import {
  attentionBackwardLoops,
  attentionForwardLoops,
  flashAttentionBackward,
  flashAttentionForward,
} from './flash-attention.ts';
import { activeNativeAddon, gemmBackend, setGemmBackend } from './gemm.ts';
import { testableGemmBackends } from '../testing/gemm-backends.ts';
import { swigluBackward, swigluForward } from './swiglu.ts';

const saved = gemmBackend();
afterAll(() => setGemmBackend(saved));
const backends = testableGemmBackends();
const nativeBuilt = backends.includes('native');

function rand(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

// stated tolerance: 2e-5 absolute + 2e-4 relative (float32, blocked online softmax vs float64
// loops, polynomial exp with ~1e-7 relative error)
const close = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  maxScaledError(a, b, 2e-5, 2e-4);

describe.each(backends)('flash attention (%s) matches the plain-loop reference', (backend) => {
  test.each([
    [1, 1, 1, 1, 4],
    [7, 7, 4, 2, 8],
    [33, 33, 4, 1, 16],
    [5, 12, 2, 2, 8], // queries after a cached prefix
    [70, 70, 6, 3, 32],
    [150, 150, 9, 3, 64], // SmolLM2's heads; crosses query (16) and key (64) block edges
    [20, 147, 9, 3, 64],
  ])('Tq=%i Tk=%i NH=%i NKV=%i HD=%i', (Tq, Tk, NH, NKV, HD) => {
    setGemmBackend(backend);
    const rng = new Rng(Tq * 31 + Tk);
    const q = rand(Tq * NH * HD, rng);
    const k = rand(Tk * NKV * HD, rng);
    const v = rand(Tk * NKV * HD, rng);
    const dout = rand(Tq * NH * HD, rng);
    const outR = new Float32Array(Tq * NH * HD);
    const att = new Float32Array(NH * Tq * Tk);
    attentionForward(outR, att, q, k, v, Tq, Tk, NH, NKV, HD);
    const out = new Float32Array(Tq * NH * HD).fill(7); // stale values must be overwritten
    const lse = new Float32Array(NH * Tq);
    flashAttentionForward(out, lse, q, k, v, Tq, Tk, NH, NKV, HD);
    expect(close(out, outR)).toBeLessThanOrEqual(1);
    // lse reproduces the reference probabilities: p_tu = exp(s_tu − lse_t)
    const scale = 1 / Math.sqrt(HD);
    const h = NH - 1;
    const t = Tq - 1;
    const kv = Math.floor(h / (NH / NKV));
    let s = 0;
    for (let i = 0; i < HD; i++) s += q[t * NH * HD + h * HD + i] * k[kv * HD + i];
    expect(Math.exp(s * scale - lse[h * Tq + t])).toBeCloseTo(att[(h * Tq + t) * Tk], 5);

    // backward accumulates: start both from the same non-zero gradients
    const seed = (n: number): Float32Array => rand(n, new Rng(n));
    const [dqR, dkR, dvR] = [seed(q.length), seed(k.length), seed(v.length)];
    const [dq, dk, dv] = [dqR.slice(), dkR.slice(), dvR.slice()];
    attentionBackward(dqR, dkR, dvR, dout, q, k, v, att, Tq, Tk, NH, NKV, HD);
    flashAttentionBackward(dq, dk, dv, dout, q, k, v, out, lse, Tq, Tk, NH, NKV, HD);
    expect(close(dq, dqR), 'dq').toBeLessThanOrEqual(1);
    expect(close(dk, dkR), 'dk').toBeLessThanOrEqual(1);
    expect(close(dv, dvR), 'dv').toBeLessThanOrEqual(1);
  });
});

test.each([
  { name: 'MHA', NH: 2, NKV: 2, Tq: 4, Tk: 4 },
  { name: 'GQA after a prefix', NH: 4, NKV: 2, Tq: 3, Tk: 5 },
])('loop attention backward (via lse) matches finite differences ($name)', (s) => {
  const { NH, NKV, Tq, Tk } = s;
  const rng = new Rng(5);
  const HD = 4;
  const q = randn(Tq * NH * HD, rng);
  const k = randn(Tk * NKV * HD, rng);
  const v = randn(Tk * NKV * HD, rng);
  const G = randn(Tq * NH * HD, rng);
  const out = new Float64Array(Tq * NH * HD);
  const lse = new Float64Array(NH * Tq);
  const fwd = (): Float64Array => {
    attentionForwardLoops(out, lse, q, k, v, Tq, Tk, NH, NKV, HD);
    return out;
  };
  fwd();
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  attentionBackwardLoops(dq, dk, dv, G, q, k, v, out, lse, Tq, Tk, NH, NKV, HD);
  for (const [a, x] of [
    [dq, q],
    [dk, k],
    [dv, v],
  ] as const) {
    expect(maxScaledError(a, numericalGrad(x, G, fwd), 1e-6, 1e-5)).toBeLessThanOrEqual(1);
  }
});

describe.skipIf(!nativeBuilt)('native decode attention', () => {
  test.each([
    [1, 8, 9, 3, 64],
    [300, 320, 9, 3, 64], // two key chunks (256)
    [1100, 1100, 4, 1, 16],
  ])('Tk=%i L=%i NH=%i NKV=%i HD=%i matches the reference row', (Tk, L, NH, NKV, HD) => {
    setGemmBackend('native');
    const addon = activeNativeAddon();
    if (!addon) throw new Error('native addon expected');
    const rng = new Rng(Tk);
    const k = rand(Tk * NKV * HD, rng);
    const v = rand(Tk * NKV * HD, rng);
    const q = rand(NH * HD, rng);
    // cache layout: kc (NKV, HD, L), vc (NKV, L, HD); positions ≥ Tk hold junk the kernel must ignore
    const kc = rand(NKV * HD * L, rng);
    const vc = rand(NKV * HD * L, rng);
    for (let g = 0; g < NKV; g++) {
      for (let t = 0; t < Tk; t++) {
        for (let d = 0; d < HD; d++) {
          kc[g * HD * L + d * L + t] = k[t * NKV * HD + g * HD + d];
          vc[g * L * HD + t * HD + d] = v[t * NKV * HD + g * HD + d];
        }
      }
    }
    const ref = new Float32Array(NH * HD);
    attentionForward(ref, new Float32Array(NH * Tk), q, k, v, 1, Tk, NH, NKV, HD);
    const out = new Float32Array(NH * HD);
    addon.attnDecode(q, kc, vc, out, L, Tk, NH, NKV, HD, 2);
    expect(close(out, ref)).toBeLessThanOrEqual(1);
    const again = new Float32Array(NH * HD);
    addon.attnDecode(q, kc, vc, again, L, Tk, NH, NKV, HD, 1);
    expect(again).toEqual(out); // bits independent of the thread count
  });
});

describe.skipIf(!nativeBuilt)('native SwiGLU', () => {
  test('forward and backward match the float64 loops (n spans threads and a ragged tail)', () => {
    const n = 70_003;
    const rng = new Rng(11);
    const gate = rand(n, rng).map((x) => x * 6); // σ saturates both ways
    const up = rand(n, rng);
    const dout = rand(n, rng);
    const refOut = new Float64Array(n);
    const refDg = new Float64Array(n).fill(0.5);
    const refDu = new Float64Array(n).fill(-0.5);
    const g64 = Float64Array.from(gate);
    const u64 = Float64Array.from(up);
    swigluForward(refOut, g64, u64, n);
    swigluBackward(refDg, refDu, Float64Array.from(dout), g64, u64, n);
    setGemmBackend('native');
    const out = new Float32Array(n);
    const dg = new Float32Array(n).fill(0.5);
    const du = new Float32Array(n).fill(-0.5);
    swigluForward(out, gate, up, n);
    swigluBackward(dg, du, dout, gate, up, n);
    expect(close(out, refOut)).toBeLessThanOrEqual(1);
    expect(close(dg, refDg)).toBeLessThanOrEqual(1);
    expect(close(du, refDu)).toBeLessThanOrEqual(1);
  });
});
