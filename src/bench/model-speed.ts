/**
 * `spell bench model`: tokens/s of the embedded engine on a real-sized model folder — prefill,
 * batched decode over a KV cache, training (forward + backward + AdamW) and a SPELL responder
 * group, sampled and trained, with and without prompt sharing — beside PyTorch CPU and llama.cpp running the same
 * phases in the same session. The machine is shared, so every repeat runs spell and then each
 * peer on the same phase (interleaved), and the best of the repeats is compared. Ratios are
 * spell / peer in tokens per second: > 1 means spell is faster.
 *
 * Token ids are (i · 7919) mod V on both sides, as in peers/bench/model_peer.py.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { AdamParams, SampleRequest } from '../engine/types.ts';
import { allocWorkspace } from '../model/workspace.ts';
import type { Workspace } from '../model/workspace.ts';
import { emptyDecodeScratch } from '../model/decode.ts';
import { ropeInvFreq } from '../model/kernels/rope.ts';
import { gemmThreads } from '../model/kernels/gemm.ts';
import type { Qwen3Model } from '../model/model.ts';
import { advanceSamples, sampleDone, startSample } from '../model/sampler.ts';
import type { SamplerContext } from '../model/sampler.ts';
import type { PeerAnswer, PeerProcess } from './peer-process.ts';
import { sig } from './timing.ts';

/** One timed phase: its name (a ratio key prefix), the tokens it produces, and how to run it. */
export interface Phase {
  readonly name: string;
  readonly tokens: number;
  /** The command the peer script runs for this phase (null: spell only). */
  readonly peer: Readonly<Record<string, unknown>> | null;
  /** Runs the phase on spell; returns the timed seconds. */
  readonly spell: () => number;
}

export interface PhaseSizes {
  readonly prefill: readonly number[];
  readonly decodeBatches: readonly number[];
  readonly decodeCtx: number;
  readonly decodeSteps: number;
  readonly train: readonly number[];
  /** SPELL responder group: prompt length, answers G, answer length. */
  readonly group: { readonly prompt: number; readonly G: number; readonly answer: number } | null;
}

export const FULL_SIZES: PhaseSizes = {
  prefill: [512, 2048, 8192],
  decodeBatches: [1, 8],
  decodeCtx: 1024,
  decodeSteps: 32,
  train: [2048],
  group: { prompt: 2048, G: 4, answer: 128 },
};

/** Tiny sizes: a smoke run of every phase. */
export const QUICK_SIZES: PhaseSizes = {
  prefill: [64],
  decodeBatches: [1, 4],
  decodeCtx: 64,
  decodeSteps: 4,
  train: [64],
  group: { prompt: 96, G: 2, answer: 8 },
};

const ids = (n: number, V: number, offset = 0): number[] =>
  Array.from({ length: n }, (_, i) => ((i + offset) * 7919) % V);

function seconds(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

/** The phases for `model` at the given sizes (sizes beyond the model's positions are dropped). */
export function modelPhases(model: Qwen3Model, sizes: PhaseSizes): Phase[] {
  const c = model.config;
  const V = c.vocabSize;
  const fits = (n: number): boolean => n < c.maxPositions;
  const greedy = (maxTokens: number): SampleRequest['params'] => ({
    maxTokens,
    temperature: 0,
    topP: 1,
    topK: -1,
    seed: 1,
  });
  let ws: Workspace | null = null;
  const ctx: SamplerContext = {
    config: c,
    views: model.views,
    workspaceFor: (T) => (ws && ws.cap >= T ? ws : (ws = allocWorkspace(c, T, true))),
    invFreq: ropeInvFreq(c.ropeTheta, c.headDim),
    scratch: emptyDecodeScratch(),
  };
  const phases: Phase[] = [];
  for (const T of sizes.prefill.filter(fits)) {
    const prompt = ids(T, V);
    phases.push({
      name: `prefill_${T}`,
      tokens: T,
      peer: { op: 'prefill', T },
      spell: () => seconds(() => model.sample({ prompt, numSamples: 1, params: greedy(1) })),
    });
  }
  const { decodeCtx: ctxLen, decodeSteps: steps } = sizes;
  for (const b of fits(ctxLen + steps + 1) ? sizes.decodeBatches : []) {
    const prompt = ids(ctxLen, V);
    phases.push({
      name: `decode_b${b}_ctx${ctxLen}`,
      tokens: b * steps,
      peer: { op: 'decode', batch: b, ctx: ctxLen, steps },
      spell: () => {
        // the prefill and first token are not timed: only the `steps` batched decode steps
        const job = startSample(ctx, { prompt, numSamples: b, params: greedy(steps + 1) });
        return seconds(() => {
          while (!sampleDone(job)) advanceSamples(ctx, [job]);
        });
      },
    });
  }
  const adam = {
    learningRate: 1e-6,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0,
    gradClipNorm: 0,
  };
  for (const T of sizes.train.filter(fits)) {
    const seq = ids(T + 1, V);
    const datum = {
      modelInput: seq.slice(0, -1),
      targetTokens: seq.slice(1),
      weights: new Array<number>(T).fill(1),
    };
    phases.push({
      name: `train_${T}`,
      tokens: T,
      peer: { op: 'train', T },
      spell: () =>
        seconds(() => {
          model.forwardBackward([datum], 'cross_entropy');
          model.optimStep(adam);
        }),
    });
  }
  const g = sizes.group;
  if (g && fits(g.prompt + g.answer)) {
    const prompt = ids(g.prompt, V);
    for (const shared of [true, false]) {
      phases.push({
        name: `group_sample_${shared ? 'shared' : 'unshared'}_p${g.prompt}_g${g.G}x${g.answer}`,
        tokens: g.G * g.answer,
        peer: { op: 'group', prompt: g.prompt, G: g.G, answer: g.answer, shared },
        spell: () =>
          seconds(() => {
            // shared: one request with n = G (one prefill, the KV cache forked G ways);
            // unshared: G requests of one sample, each prefilling the prompt again
            if (shared) model.sample({ prompt, numSamples: g.G, params: greedy(g.answer) });
            else {
              for (let i = 0; i < g.G; i++) {
                model.sample({ prompt, numSamples: 1, params: greedy(g.answer) });
              }
            }
          }),
      });
    }
  }
  if (g && fits(g.prompt + g.answer)) phases.push(...groupTrainPhases(model, g, adam));
  return phases;
}

/**
 * Training on a SPELL responder group: G datums of the same prompt, each with its own answer
 * (loss on the answer rows only, as an RL datum), forward + backward + AdamW, with the model's
 * shared-prefix packing on and off. The peer (PyTorch) trains the same G sequences as one padded
 * batch, which is how Python trainers run a group; it has no prompt sharing.
 */
function groupTrainPhases(
  model: Qwen3Model,
  g: NonNullable<PhaseSizes['group']>,
  adam: AdamParams,
): Phase[] {
  const V = model.config.vocabSize;
  const prompt = ids(g.prompt, V);
  const data = Array.from({ length: g.G }, (_, i) => {
    const seq = [...prompt, ...ids(g.answer + 1, V, 1000 * (i + 1))];
    const T = seq.length - 1;
    return {
      modelInput: seq.slice(0, -1),
      targetTokens: seq.slice(1),
      weights: Array.from({ length: T }, (_, t) => (t + 1 >= g.prompt ? 1 : 0)),
    };
  });
  return [true, false].map((shared) => ({
    name: `group_train_${shared ? 'shared' : 'unshared'}_p${g.prompt}_g${g.G}x${g.answer}`,
    tokens: g.G * (g.prompt + g.answer),
    peer: shared ? { op: 'group_train', prompt: g.prompt, G: g.G, answer: g.answer } : null,
    spell: () => {
      const saved = model.prefixSharing;
      model.prefixSharing = { ...saved, enabled: shared };
      try {
        return seconds(() => {
          model.forwardBackward(data, 'cross_entropy');
          model.optimStep(adam);
        });
      } finally {
        model.prefixSharing = saved;
      }
    },
  }));
}

/** A peer as the report shows it. */
export type PeerStatus =
  | { readonly available: true; readonly version: string; readonly detail: string }
  | { readonly available: false; readonly reason: string; readonly install: string };

export interface PhaseResult {
  readonly tokens: number;
  /** tokens/s of the best repeat per engine (null: not measured), and every repeat's seconds */
  readonly tokensPerSec: Readonly<Record<string, number | null>>;
  readonly seconds: Readonly<Record<string, readonly number[]>>;
  readonly notes: readonly string[];
}

export interface ModelSpeedReport {
  readonly model: { readonly dir: string; readonly parameters: number; readonly shape: string };
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly spellThreads: number;
    readonly loadavgStart: readonly number[];
    readonly loadavgEnd: readonly number[];
  };
  readonly method: string;
  readonly repeats: number;
  readonly peers: Readonly<Record<string, PeerStatus>>;
  readonly phases: Readonly<Record<string, PhaseResult>>;
  readonly ratios: Readonly<Record<string, number>>;
}

/** A started peer: its name and process, already loaded with the model. */
export interface LivePeer {
  readonly name: string;
  readonly proc: PeerProcess;
}

function answerSeconds(a: PeerAnswer): number | string {
  if (typeof a.seconds === 'number') return a.seconds;
  if (typeof a.error === 'string') return a.error;
  return typeof a.reason === 'string' ? a.reason : 'not measured';
}

/**
 * Run every phase `repeats` times, interleaving spell and the peers within each repeat, and
 * compute the ratios (spell tokens/s over peer tokens/s of the best repeats; group sharing, for
 * sampling and training, as unshared seconds over shared seconds).
 */
export async function runModelSpeed(
  model: Qwen3Model,
  dir: string,
  phases: readonly Phase[],
  peers: readonly LivePeer[],
  peerStatus: Readonly<Record<string, PeerStatus>>,
  repeats: number,
  progress: (line: string) => void,
): Promise<ModelSpeedReport> {
  const loadavgStart = loadavg().map((x) => sig(x));
  const secs = new Map<string, Map<string, number[]>>();
  const notes = new Map<string, string[]>();
  for (let r = 0; r < repeats; r++) {
    for (const ph of phases) {
      const perEngine = secs.get(ph.name) ?? new Map<string, number[]>();
      secs.set(ph.name, perEngine);
      const add = (engine: string, s: number): void => {
        perEngine.set(engine, [...(perEngine.get(engine) ?? []), s]);
      };
      add('spell', ph.spell());
      for (const p of ph.peer ? peers : []) {
        const got = answerSeconds(await p.proc.request(ph.peer ?? {}));
        if (typeof got === 'number') add(p.name, got);
        else if (r === 0) notes.set(ph.name, [...(notes.get(ph.name) ?? []), `${p.name}: ${got}`]);
      }
      const line = [...perEngine].map(([e, s]) => `${e} ${s[s.length - 1].toFixed(2)}s`);
      progress(`repeat ${r + 1}/${repeats} ${ph.name}: ${line.join(', ')}`);
    }
  }
  const results: Record<string, PhaseResult> = {};
  const ratios: Record<string, number> = {};
  const best = new Map<string, Map<string, number>>();
  for (const ph of phases) {
    const perEngine = secs.get(ph.name) ?? new Map<string, number[]>();
    const tps: Record<string, number | null> = {};
    const all: Record<string, number[]> = {};
    const bestOf = new Map<string, number>();
    for (const engine of ['spell', ...peers.map((p) => p.name)]) {
      const s = perEngine.get(engine) ?? [];
      all[engine] = s.map((x) => sig(x, 4));
      tps[engine] = s.length ? sig(ph.tokens / Math.min(...s)) : null;
      if (s.length) bestOf.set(engine, Math.min(...s));
    }
    best.set(ph.name, bestOf);
    results[ph.name] = {
      tokens: ph.tokens,
      tokensPerSec: tps,
      seconds: all,
      notes: notes.get(ph.name) ?? [],
    };
    const mine = tps.spell;
    for (const p of peers) {
      const theirs = tps[p.name];
      if (mine && theirs) ratios[`${ph.name}_vs_${p.name}`] = sig(mine / theirs);
    }
  }
  for (const [name, bestOf] of best) {
    if (!/^group_(sample|train)_shared/.test(name)) continue;
    const unshared = best.get(name.replace('_shared_', '_unshared_'));
    for (const [engine, s] of bestOf) {
      const u = unshared?.get(engine);
      if (u) ratios[`${name}_vs_unshared_${engine}`] = sig(u / s);
    }
  }
  const cpu = cpus()[0]?.model ?? 'unknown';
  return {
    model: {
      dir,
      parameters: model.table.totalSize,
      shape: `hidden ${model.config.hiddenSize}, ${model.config.numLayers} layers, ${model.config.numHeads}/${model.config.numKvHeads} heads, MLP ${model.config.intermediateSize}, vocab ${model.config.vocabSize}`,
    },
    machine: {
      cpu,
      cores: availableParallelism(),
      spellThreads: gemmThreads(),
      loadavgStart,
      loadavgEnd: loadavg().map((x) => sig(x)),
    },
    method:
      'each repeat runs every phase on spell, then on each peer, back to back (interleaved under the same load); tokens/s from the fastest repeat; ratio = spell tokens/s ÷ peer tokens/s (> 1: spell faster)',
    repeats,
    peers: peerStatus,
    phases: results,
    ratios,
  };
}
