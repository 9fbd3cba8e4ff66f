/**
 * Shared-prefix packing: which datums a call packs (literal cases), the packed layout, and the
 * model's forward/forwardBackward with packing against the same model running each datum alone:
 * per-token logprobs, loss, metrics and every gradient (full fine-tuning and LoRA) equal within
 * float tolerance, for cross_entropy and ppo, groups mixed with datums that share nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Datum } from '../core/policy-types.ts';
import { Rng } from '../core/rng.ts';
import { qwen3Config } from './config.ts';
import { gemmBackend, setGemmBackend } from './kernels/gemm.ts';
import { testableGemmBackends } from './testing/gemm-backends.ts';
import { loraConfig } from './lora.ts';
import { Qwen3Model } from './model.ts';
import { buildPack, planSharing } from './shared-prefix.ts';
import { maxScaledError } from './testing/gradcheck.ts';

const tiny = qwen3Config({
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 4,
  intermediate_size: 24,
  vocab_size: 32,
  initializer_range: 0.3,
});

/** A cross-entropy datum of a token sequence (next-token targets). */
function seqDatum(seq: readonly number[], weights?: readonly number[]): Datum {
  return {
    modelInput: seq.slice(0, -1),
    targetTokens: seq.slice(1),
    weights: weights ?? seq.slice(1).map(() => 1),
  };
}

function tokens(n: number, rng: Rng): number[] {
  return Array.from({ length: n }, () => rng.int(32));
}

describe('planSharing', () => {
  const opts = { minShared: 4, maxTokens: 1000 };
  const prompt = [1, 2, 3, 4, 5, 6, 7, 8];

  it('packs a group on its shared rows and leaves the rest alone', () => {
    const data = [
      seqDatum([...prompt, 9, 10]),
      seqDatum([20, 21, 22, 23, 24, 25]),
      seqDatum([...prompt, 11]),
      seqDatum([...prompt, 9, 12, 13]),
    ];
    const plan = planSharing(data, opts);
    expect(plan.singles).toEqual([1]);
    expect(plan.packs).toHaveLength(1);
    const pack = plan.packs[0];
    expect([...pack.members].sort()).toEqual([0, 2, 3]);
    // inputs agree on 9 rows for datums 0 and 3, but row 7's target (the next token) differs from
    // datum 2's, so only rows 0..6 are shared
    expect(pack.prefix).toBe(7);
    expect(pack.length).toBe(7 + (9 - 7) + (8 - 7) + (10 - 7));
  });

  it('packs two groups separately when they share only a short head', () => {
    const a = [30, 31, 1, 2, 3, 4, 5, 6];
    const b = [30, 31, 7, 8, 9, 10, 11, 12];
    const data = [
      seqDatum([...a, 1]),
      seqDatum([...b, 1]),
      seqDatum([...a, 2]),
      seqDatum([...b, 3]),
    ];
    const plan = planSharing(data, opts);
    expect(plan.singles).toEqual([]);
    const groups = plan.packs.map((p) => [...p.members].sort()).sort();
    expect(groups).toEqual([
      [0, 2],
      [1, 3],
    ]);
    expect(plan.packs.map((p) => p.prefix)).toEqual([7, 7]);
  });

  it('packs a datum that is a prefix of another (its own rows are all shared)', () => {
    const data = [seqDatum([...prompt, 9, 10, 11]), seqDatum(prompt)];
    const plan = planSharing(data, opts);
    expect(plan.packs).toHaveLength(1);
    const pack = plan.packs[0];
    expect(pack.prefix).toBe(7);
    expect(pack.length).toBe(10);
    expect(pack.starts[pack.members.indexOf(1)]).toBe(7); // an empty suffix
  });

  it('does not pack below minShared, nor identical datums beyond what pays', () => {
    const short = [seqDatum([1, 2, 3, 9]), seqDatum([1, 2, 3, 8])];
    expect(planSharing(short, opts).packs).toHaveLength(0);
    const nothing = [seqDatum([1, 2, 3, 4, 5, 6]), seqDatum([2, 2, 3, 4, 5, 6])];
    expect(planSharing(nothing, opts)).toEqual({ packs: [], singles: [0, 1] });
  });

  it('cuts a pack longer than maxTokens into chunks that fit', () => {
    const data = Array.from({ length: 5 }, (_, i) => seqDatum([...prompt, 10 + i, 20, 21]));
    // each datum: 7 shared rows + 3 own rows; 5 together would need 22 rows
    const plan = planSharing(data, { minShared: 4, maxTokens: 14 });
    expect(plan.packs.map((p) => p.length)).toEqual([13, 13]);
    expect(plan.singles).toEqual([4]);
  });

  it('lays out positions, segments and row owners', () => {
    const data = [seqDatum([1, 2, 3, 4, 5]), seqDatum([1, 2, 3, 6, 7, 8])];
    const pack = buildPack(data, [0, 1], 2);
    expect(Array.from(pack.tokens)).toEqual([1, 2, 3, 4, 3, 6, 7]);
    expect(Array.from(pack.targets)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(pack.layout.positions)).toEqual([0, 1, 2, 3, 2, 3, 4]);
    expect(Array.from(pack.layout.segments.segStart)).toEqual([0, 0, 2, 2, 4, 4, 4]);
    expect(Array.from(pack.rowMember)).toEqual([-1, -1, 0, 0, 1, 1, 1]);
    expect(pack.starts).toEqual([2, 4]);
  });
});

const saved = gemmBackend();
afterAll(() => setGemmBackend(saved));
const backends = testableGemmBackends();

/**
 * A mixed call: a group of three over one prompt (differing weights, one answer a prefix of
 * another's), a pair over a second prompt, and a datum sharing nothing.
 */
function mixedCall(rng: Rng): Datum[] {
  const p1 = tokens(11, rng);
  const p2 = tokens(9, rng);
  const a = tokens(5, rng);
  const w = (n: number): number[] => Array.from({ length: n }, () => rng.next() * 2 - 0.5);
  return [
    seqDatum([...p1, ...a], w(15)),
    seqDatum([...p2, ...tokens(4, rng)]),
    seqDatum([...p1, ...a.slice(0, 2)], w(12)),
    seqDatum(tokens(7, rng)),
    seqDatum([...p1, ...tokens(6, rng)], w(16)),
    seqDatum([...p2, ...tokens(3, rng)], w(11)),
  ];
}

/** The same data as ppo datums: sampler logprobs off the learner's by ±0.4, mixed advantages. */
function ppoCall(
  data: readonly Datum[],
  learner: readonly (readonly number[])[],
  rng: Rng,
): Datum[] {
  return data.map((d, i) => ({
    modelInput: d.modelInput,
    targetTokens: d.targetTokens,
    logprobs: learner[i].map((lp) => lp + (rng.next() < 0.5 ? 0.4 : -0.4)),
    // one advantage per datum, as a group's answers have (a shared row gets several)
    advantages: d.modelInput.map(() => [1.5, -0.7, 0.3, -1.2, 0.9, 0.6][i]),
  }));
}

function models(lora: boolean): [Qwen3Model, Qwen3Model] {
  const make = (): Qwen3Model => {
    const m = Qwen3Model.random(tiny, 5);
    if (lora) {
      m.enableLora(loraConfig({ rank: 3, alpha: 6, seed: 2 }));
      const ad = m.lora;
      if (!ad) throw new Error('no adapters');
      // B starts at zero; give it values so every adapter gradient is generic
      for (let i = 0; i < ad.params.length; i++) ad.params[i] = 0.2 * Math.sin(i);
      m.adaptersChanged();
    }
    return m;
  };
  const shared = make();
  shared.prefixSharing = { enabled: true, minShared: 4, packFactor: 4 };
  const alone = make();
  alone.prefixSharing = { ...alone.prefixSharing, enabled: false };
  return [shared, alone];
}

// stated tolerance: float32 sums in a different order (packed rows, summed shared gradients)
const close = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  maxScaledError(a, b, 1e-5, 1e-4);

describe.each(backends)('the model with shared prefixes (%s)', (backend) => {
  it.each([
    { lora: false, loss: 'cross_entropy' as const },
    { lora: false, loss: 'ppo' as const },
    { lora: true, loss: 'cross_entropy' as const },
    { lora: true, loss: 'ppo' as const },
  ])('matches each datum alone (lora=$lora, $loss)', ({ lora, loss }) => {
    setGemmBackend(backend);
    const rng = new Rng(3);
    const ce = mixedCall(rng);
    const [shared, alone] = models(lora);
    const plan = planSharing(ce, { minShared: 4, maxTokens: 64 });
    expect(plan.packs.map((p) => p.members.length).sort()).toEqual([2, 3]); // packing happens
    const data =
      loss === 'ppo' ? ppoCall(ce, alone.forward(ce, 'cross_entropy').logprobs, rng) : ce;

    // forward (the π_old recompute) then forwardBackward, as a training step calls them
    const f1 = shared.forward(data, loss);
    const f2 = alone.forward(data, loss);
    const r1 = shared.forwardBackward(data, loss);
    const r2 = alone.forwardBackward(data, loss);
    for (const [a, b] of [
      [f1, f2],
      [r1, r2],
    ]) {
      a.logprobs.forEach((lp, i) =>
        expect(close(lp, b.logprobs[i]), `datum ${i}`).toBeLessThanOrEqual(1),
      );
      expect(a.loss).toBeCloseTo(b.loss, 4);
      expect(a.metrics['tokens:sum']).toBe(b.metrics['tokens:sum']);
      expect(a.metrics['clipped_tokens:sum']).toBe(b.metrics['clipped_tokens:sum']);
    }
    if (loss === 'ppo') expect(r1.metrics['clipped_tokens:sum']).toBeGreaterThan(0);
    const g1 = lora ? shared.lora?.grads : shared.grads;
    const g2 = lora ? alone.lora?.grads : alone.grads;
    if (!g1 || !g2) throw new Error('no gradients');
    expect(close(g1, g2)).toBeLessThanOrEqual(1);
    expect(g1.some((x) => x !== 0)).toBe(true);
  });

  it('trains the same over steps (identical datums, a long shared prompt)', () => {
    setGemmBackend(backend);
    const rng = new Rng(8);
    const prompt = tokens(70, rng);
    const answer = tokens(6, rng);
    const data = [
      seqDatum([...prompt, ...answer]),
      seqDatum([...prompt, ...answer]),
      seqDatum([...prompt, ...tokens(9, rng)]),
    ];
    const [shared, alone] = models(false);
    shared.prefixSharing = { enabled: true, minShared: 64, packFactor: 2 };
    const adam = {
      learningRate: 1e-2,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      weightDecay: 0,
      gradClipNorm: 0,
    };
    for (let step = 0; step < 3; step++) {
      const a = shared.forwardBackward(data, 'cross_entropy');
      const b = alone.forwardBackward(data, 'cross_entropy');
      expect(a.loss).toBeCloseTo(b.loss, 3);
      shared.optimStep(adam);
      alone.optimStep(adam);
    }
  });
});
