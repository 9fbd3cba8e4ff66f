/**
 * `spell pretrain`: supervised warm-start training of an embedded model on the mixed example
 * stream (mixture.ts) with AdamW, in the calling thread (the in-thread `Qwen3Model` avoids the
 * worker round-trips a tight loop does not need).
 *
 * One optimizer step = examples drawn until their sequence tokens reach `batchTokens`; the loss is
 * the token mean of the cross-entropy over all answer tokens of the step. It stops at `steps` or
 * after `minutes` of wall time (whichever comes first), checkpoints atomically every
 * `checkpointEvery` steps into `<out>/checkpoint/` (weights, Adam moments, step, stream RNG) and
 * finally writes `<out>` as a model folder (config.json, model.safetensors, tokenizer files) plus
 * `pretrain.json` (options and final numbers). Progress goes to `log`, one line per step, and to
 * `<out>/metrics.jsonl`. For the same options and seed the weights are the same, unless the time
 * cap cut the run short.
 */
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';
import { ConfigurationError } from '../core/errors.ts';
import { Rng, type RngState } from '../core/rng.ts';
import { DEFAULT_SYNTH_OPTIONS } from '../data/synth/default.ts';
import type { AdamParams } from '../engine/types.ts';
import { copyTokenizerFiles } from '../model/model-folder.ts';
import {
  loadCheckpoint,
  loadModelFolder,
  saveCheckpoint,
  writeModelFolder,
  type Qwen3Model,
} from '../model/index.ts';
import { loadTokenizer, type HfTokenizer } from '../text/index.ts';
import { heldOutClusters, trainingClusters, type QaCluster } from './clusters.ts';
import { toDatum, trainedTokens, type EncodedExample } from './encode.ts';
import { EXAMPLE_ROLES, type ExampleOptions, type ExampleRole } from './examples.ts';
import {
  DEFAULT_ROLE_WEIGHTS,
  ROLE_TABLE,
  drawRole,
  encodedExample,
  type DrillVocabs,
  type ExampleContext,
  type RoleWeights,
} from './mixture.ts';
import { DEFAULT_DRILL_CHAT_SHARE, inductionVocab, type InductionVocab } from './induction.ts';
import { ambiguousPositions } from './lookup.ts';
import { pointerVocab } from './pointer.ts';
import { learningRateAt } from './schedule.ts';

export interface PretrainOptions {
  /** Model folder to start from (weights + tokenizer). */
  readonly fromDir: string;
  /** Output model folder (also holds checkpoint/, metrics.jsonl, pretrain.json). */
  readonly outDir: string;
  /** Optimizer steps (0: write the starting model unchanged). */
  readonly steps: number;
  /** Wall-time cap in minutes (Infinity: none). */
  readonly minutes: number;
  /** Sequence tokens (prompt + answer) per optimizer step. */
  readonly batchTokens: number;
  readonly learningRate: number;
  readonly warmupSteps: number;
  /** Final learning rate as a fraction of the peak (cosine decay). */
  readonly lrFloorRatio: number;
  readonly seed: number;
  /** Held-out loss per role every K steps and at the end (0: only at the end). */
  readonly evalEvery: number;
  readonly checkpointEvery: number;
  /**
   * Pause after this many steps of the run (counting resumed ones) without changing the schedule,
   * so a later `resume` continues exactly as an uninterrupted run (absent: no pause).
   */
  readonly stopAfter?: number;
  /** Continue from `<out>/checkpoint/` when it exists. */
  readonly resume: boolean;
  /** Training clusters per task from the generator's training streams. */
  readonly clustersPerTask: number;
  readonly weights: RoleWeights;
  readonly examples: Omit<ExampleOptions, 'countTokens'>;
  readonly enableThinking: boolean;
  /** Language-modelling texts are cut to this many tokens. */
  readonly maxLmTokens: number;
  /** Held-out examples per role and task for the loss measurement. */
  readonly heldOutPerRoleTask: number;
  /**
   * Seed of the held-out example set (absent: `seed`, as before this option existed). Give runs
   * with different stream seeds the same value to compare their held-out losses directly.
   */
  readonly heldOutSeed?: number;
  /** Share of `induction` drills posed as a chat turn, in [0, 1] (the rest are bare). */
  readonly drillChatShare: number;
  /** Progress output (one line per step). */
  readonly log: (line: string) => void;
}

/** Defaults of everything but the folders and the log (the CLI shows them). */
export const PRETRAIN_DEFAULTS: Omit<PretrainOptions, 'fromDir' | 'outDir' | 'log'> = {
  steps: 380,
  minutes: Infinity,
  batchTokens: 2048,
  learningRate: 2e-3,
  warmupSteps: 10,
  lrFloorRatio: 0.1,
  seed: 1,
  evalEvery: 0,
  checkpointEvery: 25,
  resume: false,
  clustersPerTask: 300,
  weights: DEFAULT_ROLE_WEIGHTS,
  examples: { maxTargetTokens: 90, questionerDocs: 2, wrongRate: 0.2 },
  enableThinking: false,
  maxLmTokens: 384,
  heldOutPerRoleTask: 1,
  drillChatShare: DEFAULT_DRILL_CHAT_SHARE,
};

/** What a finished run reports. */
export interface PretrainResult {
  readonly steps: number;
  readonly stoppedBy: 'steps' | 'minutes' | 'stop-after';
  readonly seconds: number;
  readonly tokens: number;
  /** Mean training loss per role over the last 10 steps. */
  readonly trainLoss: Partial<Record<ExampleRole, number>>;
  readonly heldOutLoss: Partial<Record<ExampleRole, number>>;
  /** Held-out loss on the positions a short-context lookup cannot resolve (lookup.ts). */
  readonly heldOutAmbiguous: Partial<Record<ExampleRole, number>>;
}

interface StreamState {
  readonly step: number;
  readonly rng: RngState;
  readonly tokens: number;
}

const ADAM: Omit<AdamParams, 'learningRate'> = {
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.01,
  gradClipNorm: 1.0,
};

function validate(o: PretrainOptions): void {
  const bad = (flag: string, v: number, want: string): never => {
    throw new ConfigurationError(`pretrain ${flag} = ${v} is invalid: expected ${want}`);
  };
  if (!Number.isInteger(o.steps) || o.steps < 0) bad('steps', o.steps, 'an integer ≥ 0');
  if (!(o.minutes > 0)) bad('minutes', o.minutes, 'a number > 0');
  if (!Number.isInteger(o.batchTokens) || o.batchTokens < 1)
    bad('batchTokens', o.batchTokens, 'a positive integer');
  if (!(o.learningRate > 0) || !Number.isFinite(o.learningRate))
    bad('learningRate', o.learningRate, 'a finite number > 0');
  if (!Number.isInteger(o.evalEvery) || o.evalEvery < 0)
    bad('evalEvery', o.evalEvery, 'an integer ≥ 0');
  if (!Number.isInteger(o.checkpointEvery) || o.checkpointEvery < 1)
    bad('checkpointEvery', o.checkpointEvery, 'a positive integer');
  const w = o.examples.wrongRate;
  if (!(w >= 0 && w <= 1)) bad('wrongRate', w, 'a number in [0, 1]');
  if (!(o.drillChatShare >= 0 && o.drillChatShare <= 1))
    bad('drillChatShare', o.drillChatShare, 'a number in [0, 1]');
  const e = o.examples.evalPromptShare ?? 0;
  if (!(e >= 0 && e <= 1)) bad('evalPromptShare', e, 'a number in [0, 1]');
}

/** Negative log-likelihood summed over the trained positions of one example, and their count. */
function exampleNll(ex: EncodedExample, logprobs: readonly number[]): [number, number] {
  const first = Math.max(1, ex.promptTokens);
  let nll = 0;
  for (let t = first - 1; t < logprobs.length; t++) nll -= logprobs[t];
  return [nll, trainedTokens(ex)];
}

/** Per-role token-mean loss accumulator. */
class RoleLoss {
  private readonly sum = new Map<ExampleRole, number>();
  private readonly count = new Map<ExampleRole, number>();
  add(role: ExampleRole, nll: number, tokens: number): void {
    this.sum.set(role, (this.sum.get(role) ?? 0) + nll);
    this.count.set(role, (this.count.get(role) ?? 0) + tokens);
  }
  means(): Partial<Record<ExampleRole, number>> {
    const out: Partial<Record<ExampleRole, number>> = {};
    for (const r of EXAMPLE_ROLES) {
      const n = this.count.get(r) ?? 0;
      if (n > 0) out[r] = (this.sum.get(r) ?? 0) / n;
    }
    return out;
  }
}

function formatLosses(l: Partial<Record<ExampleRole, number>>, suffix = ''): string {
  return EXAMPLE_ROLES.filter((r) => l[r] !== undefined)
    .map((r) => `${ROLE_TABLE[r].short}${suffix} ${(l[r] as number).toFixed(3)}`)
    .join(' ');
}

/** Held-out losses, then the ambiguous-position losses of copying roles ("quo@amb 1.86"). */
function formatHeldOut(h: HeldOutEval): string {
  return [formatLosses(h.loss), formatLosses(h.ambiguous, '@amb')]
    .filter((s) => s !== '')
    .join(' ');
}

/** A fixed set of held-out examples (evaluation clusters; measurement only). */
export function heldOutExamples(
  tok: HfTokenizer,
  o: Pick<
    PretrainOptions,
    | 'seed'
    | 'heldOutSeed'
    | 'heldOutPerRoleTask'
    | 'examples'
    | 'enableThinking'
    | 'maxLmTokens'
    | 'drillChatShare'
    | 'weights'
    | 'fromDir'
  >,
  clusters: readonly QaCluster[] = heldOutClusters(DEFAULT_SYNTH_OPTIONS),
): EncodedExample[] {
  const seed = o.heldOutSeed ?? o.seed;
  const ctx = exampleContext(tok, o);
  const per = o.heldOutPerRoleTask;
  const pools = (['docmath', 'qa', 'mc'] as const).map((task) =>
    clusters.filter((c) => c.task === task),
  );
  const out: EncodedExample[] = [];
  const shared = Rng.derive(seed, 'pretrain:held-out');
  for (const pool of pools) {
    for (const role of EXAMPLE_ROLES.filter((r) => ROLE_TABLE[r].heldOut === 'shared')) {
      for (let i = 0; i < per && pool.length > 0; i++) {
        out.push(encodedExample(role, pool, shared, ctx));
      }
    }
  }
  // Text roles first, then the drills (only when the tokenizer can pose them): the order the
  // held-out set has always had.
  const own = EXAMPLE_ROLES.filter((r) => ROLE_TABLE[r].heldOut === 'own');
  for (const role of own.filter((r) => ROLE_TABLE[r].drill === undefined)) {
    const rng = Rng.derive(seed, `pretrain:held-out:${role}`);
    for (const pool of pools) {
      for (let i = 0; i < per && pool.length > 0; i++)
        out.push(encodedExample(role, pool, rng, ctx));
    }
  }
  if (ctx.drills === null) return out;
  for (const role of own.filter((r) => ROLE_TABLE[r].drill !== undefined)) {
    const rng = Rng.derive(seed, `pretrain:held-out:${role}`);
    for (let i = 0; i < 3 * per; i++) out.push(encodedExample(role, [], rng, ctx));
  }
  return out;
}

/** What the example builders need, from the tokenizer and the options. */
function exampleContext(
  tok: HfTokenizer,
  o: Pick<
    PretrainOptions,
    'examples' | 'enableThinking' | 'maxLmTokens' | 'drillChatShare' | 'weights' | 'fromDir'
  >,
): ExampleContext {
  return {
    tok,
    examples: {
      ...o.examples,
      countTokens: (t) => tok.encode(t, { addSpecialTokens: false }).length,
    },
    encode: { enableThinking: o.enableThinking, maxLmTokens: o.maxLmTokens },
    drills: drillVocabs(tok, o),
    drillChatShare: o.drillChatShare,
  };
}

/**
 * The token-id vocabularies of the induction and pointer drills, or null when the tokenizer has
 * none (e.g. a pretrained tokenizer whose chat tokens come first) and neither drill is weighted:
 * a real model can then still be warm-started on the text roles alone.
 * @throws ConfigurationError when a drill is weighted but the tokenizer cannot pose it.
 */
function drillVocabs(
  tok: HfTokenizer,
  o: Pick<PretrainOptions, 'enableThinking' | 'weights' | 'fromDir'>,
): DrillVocabs | null {
  let induction: InductionVocab;
  try {
    induction = inductionVocab(tok, o.enableThinking);
  } catch (e) {
    if (o.weights.induction === 0 && o.weights.pointer === 0) return null;
    throw new ConfigurationError(
      `--role-weights: the induction/pointer drills need a byte-level tokenizer with chat tokens after its merges; ${o.fromDir}: ${(e as Error).message}`,
    );
  }
  return { induction, pointer: pointerVocab(induction, tok, o.enableThinking) };
}

/** Held-out token-mean loss per role (forward only). */
export function heldOutLoss(
  model: Qwen3Model,
  examples: readonly EncodedExample[],
): Partial<Record<ExampleRole, number>> {
  return heldOutEval(model, examples).loss;
}

/** Roles whose targets are copied from the prompt: the ambiguous-position loss is theirs. */
const LOOKUP_ROLES: readonly ExampleRole[] = ['copy', 'quote', 'pointer'];

/** Per role: the held-out loss, and the loss on ambiguous-lookup positions of copying roles. */
export interface HeldOutEval {
  readonly loss: Partial<Record<ExampleRole, number>>;
  readonly ambiguous: Partial<Record<ExampleRole, number>>;
}

/** Held-out token-mean loss per role, and on the ambiguous positions of copying roles. */
export function heldOutEval(model: Qwen3Model, examples: readonly EncodedExample[]): HeldOutEval {
  const acc = new RoleLoss();
  const amb = new RoleLoss();
  for (const ex of examples) {
    const res = model.forward([toDatum(ex, 1)], 'cross_entropy');
    const logprobs = res.logprobs[0];
    const [nll, n] = exampleNll(ex, logprobs);
    acc.add(ex.role, nll, n);
    if (!LOOKUP_ROLES.includes(ex.role)) continue;
    const flags = ambiguousPositions(ex);
    let sum = 0;
    let count = 0;
    flags.forEach((f, t) => {
      if (f) {
        sum -= logprobs[t];
        count++;
      }
    });
    if (count > 0) amb.add(ex.role, sum, count);
  }
  return { loss: acc.means(), ambiguous: amb.means() };
}

/**
 * Run pretraining as configured and write the output model folder.
 * @throws ConfigurationError on invalid options; CheckpointError on unreadable model folders.
 */
export function runPretrain(o: PretrainOptions): PretrainResult {
  validate(o);
  const started = Date.now();
  const model = loadModelFolder(o.fromDir);
  const tok = loadTokenizer(o.fromDir);
  const maxPositions = model.config.maxPositions;
  mkdirSync(o.outDir, { recursive: true });
  const ckptDir = join(o.outDir, 'checkpoint');
  const metricsFile = join(o.outDir, 'metrics.jsonl');

  let rng = Rng.derive(o.seed, 'pretrain:stream');
  let step = 0;
  let tokens = 0;
  if (o.resume && existsSync(join(ckptDir, 'state.json'))) {
    const adapter = loadCheckpoint(ckptDir, model) as { pretrain?: StreamState };
    if (adapter.pretrain === undefined) {
      throw new ConfigurationError(`${ckptDir} is not a pretrain checkpoint (no pretrain state)`);
    }
    step = adapter.pretrain.step;
    tokens = adapter.pretrain.tokens;
    rng = Rng.fromState(adapter.pretrain.rng);
    o.log(`resumed from ${ckptDir} at step ${step}`);
  } else if (existsSync(metricsFile)) {
    rmSync(metricsFile);
  }

  const clusters = trainingClusters(DEFAULT_SYNTH_OPTIONS, o.clustersPerTask);
  const heldOut = heldOutExamples(tok, o);
  const ctx = exampleContext(tok, o);
  const schedule = {
    peak: o.learningRate,
    warmupSteps: o.warmupSteps,
    totalSteps: o.steps,
    floorRatio: o.lrFloorRatio,
  };
  const checkpoint = (): void => {
    const state: StreamState = { step, rng: rng.state(), tokens };
    saveCheckpoint(ckptDir, model, { pretrain: state }, o.fromDir);
  };

  const recent: RoleLoss[] = [];
  let stoppedBy: PretrainResult['stoppedBy'] = 'steps';
  let heldOutNow: HeldOutEval = { loss: {}, ambiguous: {} };
  while (step < o.steps) {
    if (o.stopAfter !== undefined && step >= o.stopAfter) {
      stoppedBy = 'stop-after';
      break;
    }
    if ((Date.now() - started) / 60_000 >= o.minutes) {
      stoppedBy = 'minutes';
      break;
    }
    const t0 = Date.now();
    const batch: EncodedExample[] = [];
    let seqTokens = 0;
    while (seqTokens < o.batchTokens) {
      const ex = encodedExample(drawRole(o.weights, rng), clusters, rng, ctx);
      // Longer than the model's context: cannot be trained on; drawn again (deterministic).
      if (ex.ids.length > maxPositions || trainedTokens(ex) <= 0) continue;
      batch.push(ex);
      seqTokens += ex.ids.length;
    }
    const trained = batch.reduce((s, ex) => s + trainedTokens(ex), 0);
    const losses = new RoleLoss();
    for (const ex of batch) {
      const res = model.forwardBackward([toDatum(ex, 1 / trained)], 'cross_entropy');
      const [nll, n] = exampleNll(ex, res.logprobs[0]);
      losses.add(ex.role, nll, n);
    }
    step++;
    tokens += seqTokens;
    const lr = learningRateAt(schedule, step);
    const opt = model.optimStep({ ...ADAM, learningRate: lr });
    recent.push(losses);
    if (recent.length > 10) recent.shift();
    const seconds = (Date.now() - t0) / 1000;
    const evaluated = (o.evalEvery > 0 && step % o.evalEvery === 0) || step === o.steps;
    if (evaluated) heldOutNow = heldOutEval(model, heldOut);
    const means = losses.means();
    appendFileSync(
      metricsFile,
      JSON.stringify({
        step,
        lr,
        grad_norm: opt.grad_norm,
        tokens: seqTokens,
        trained_tokens: trained,
        seconds,
        loss: means,
        ...(evaluated
          ? { held_out: heldOutNow.loss, held_out_ambiguous: heldOutNow.ambiguous }
          : {}),
      }) + '\n',
    );
    const elapsed = (Date.now() - started) / 1000;
    o.log(
      `step ${step}/${o.steps} lr ${lr.toExponential(1)} loss ${formatLosses(means)} | ` +
        `${seqTokens} tok ${seconds.toFixed(1)}s (${(seqTokens / seconds).toFixed(0)} tok/s) ` +
        `elapsed ${elapsed.toFixed(0)}s` +
        (evaluated ? ` | held-out ${formatHeldOut(heldOutNow)}` : ''),
    );
    if (step % o.checkpointEvery === 0) checkpoint();
  }
  if (step > 0 && step % o.checkpointEvery !== 0) checkpoint();
  if (Object.keys(heldOutNow.loss).length === 0) heldOutNow = heldOutEval(model, heldOut);

  writeModelFolder(o.outDir, model.config, model.table, model.params);
  copyTokenizerFiles(o.fromDir, o.outDir);
  const trainLoss = new RoleLoss();
  const sums = recent.map((r) => r.means());
  for (const r of EXAMPLE_ROLES) {
    const vals = sums.map((s) => s[r]).filter((v): v is number => v !== undefined);
    if (vals.length > 0)
      trainLoss.add(
        r,
        vals.reduce((a, b) => a + b, 0),
        vals.length,
      );
  }
  const result: PretrainResult = {
    steps: step,
    stoppedBy,
    seconds: (Date.now() - started) / 1000,
    tokens,
    trainLoss: trainLoss.means(),
    heldOutLoss: heldOutNow.loss,
    heldOutAmbiguous: heldOutNow.ambiguous,
  };
  const { log: _log, ...recorded } = o;
  void _log;
  writeFileAtomic(
    join(o.outDir, 'pretrain.json'),
    JSON.stringify({ options: { ...recorded, minutes: String(o.minutes) }, result }, null, 2) +
      '\n',
  );
  return result;
}
