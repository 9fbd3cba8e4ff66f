/**
 * The training run: sets up the corpus, sampler, memory and RNG streams, resumes from the latest
 * complete checkpoint when asked, then runs steps, writing metrics, rollouts and checkpoints.
 * The engine and tokenizer are opened by the caller (see engine-factory.ts).
 */
import { join } from 'node:path';
import { Rng } from '../core/rng.ts';
import { writeFileAtomic } from '../core/atomic.ts';
import { DataError } from '../core/errors.ts';
import type { Cluster } from '../data/cluster.ts';
import { readCorpus } from '../data/read/corpus.ts';
import { DEFAULT_ROUTING, routeClusters } from '../data/routing.ts';
import { DomainSampler, usableWeights } from '../data/sampler.ts';
import { HistoryMemory } from '../spell/history.ts';
import { RepeatGuard } from '../spell/repeat-guard.ts';
import type { PolicyEngine } from '../engine/types.ts';
import { historyCapacity, repeatGuardConfig } from '../spell/config.ts';
import type { Task } from '../spell/task.ts';
import type { TrainConfig } from './config.ts';
import { parseControllerState, type ControllerState } from './controller-state.ts';
import { RolePolicy, type EngineHandle } from './policy.ts';
import { RunDir, stepName } from './run-dir.ts';
import { runTrainStep, type StepContext, type StepOutcome } from './step.ts';
import { learnerTemperature } from './update.ts';
import { LabeledSampler, readLabeledQuestions, runRlvrStep } from './rlvr.ts';

export interface TrainerEvents {
  onStart?(info: { startStep: number; endStep: number; clusters: Record<Task, number> }): void;
  onPhase?(step: number, phase: string): void;
  onStep?(step: number, metrics: Record<string, number>): void;
  onCheckpoint?(step: number, dir: string): void;
  onInfo?(message: string): void;
}

export interface TrainerOptions {
  readonly cfg: TrainConfig;
  readonly runDir: RunDir;
  /** The opened engine, its tokenizer and loss aggregation (engine-factory.ts). */
  readonly engine: EngineHandle;
  /** Corpus paths; the caller resolves the bundled default when the config has none. */
  readonly dataPaths: readonly string[];
  readonly resume: boolean;
  /** Start afresh in a run directory that already holds a run, deleting it. */
  readonly overwrite?: boolean;
  /** Aborting stops the run after the current step's files are written. */
  readonly signal?: AbortSignal;
  readonly events?: TrainerEvents;
}

/**
 * A remote engine that cannot apply the learner temperature trains at temperature 1 while sampling
 * at the rollout temperature: say so once, and return the config as actually run
 * (`algorithm.logprobTemperature: raw`) for config.yaml; `actor/logprob_temperature` records it per
 * step.
 */
async function recordLearnerTemperature(
  cfg: TrainConfig,
  engine: PolicyEngine,
  events: TrainerEvents | undefined,
): Promise<TrainConfig> {
  const info = await engine.info();
  const wanted = cfg.rollout.temperature;
  if (cfg.algorithm.logprobTemperature !== 'rollout' || wanted === 0 || wanted === 1) return cfg;
  if (learnerTemperature(cfg, info) === wanted) return cfg;
  events?.onInfo?.(
    `the engine (${info.modelName}) cannot apply the learner temperature: samples are drawn at ` +
      `${wanted} but training log-probs are at temperature 1 (the reference uses ${wanted} in both); ` +
      'recorded as algorithm.logprobTemperature=raw in config.yaml and actor/logprob_temperature',
  );
  return { ...cfg, algorithm: { ...cfg.algorithm, logprobTemperature: 'raw' } };
}

/**
 * Run (or resume) training to `cfg.steps`, holding the run directory's lock throughout.
 * Returns the last completed step.
 * @throws ConfigurationError when another process holds the run directory, or it holds a run and
 *   neither `resume` nor `overwrite` is set
 */
export async function runTraining(opts: TrainerOptions): Promise<number> {
  const lock = opts.runDir.lock();
  try {
    opts.runDir.prepareFresh({ resume: opts.resume, overwrite: opts.overwrite === true });
    return await runLocked(opts);
  } finally {
    lock.release();
  }
}

async function runLocked(opts: TrainerOptions): Promise<number> {
  const { cfg, runDir, events } = opts;
  const engine = opts.engine.engine;
  const algo = cfg.algorithm;
  const read = await readCorpus(opts.dataPaths, {
    skipBad: cfg.data.skipBad,
    text: cfg.data.text,
  });
  if (read.clusters.length === 0) {
    throw new DataError(`no clusters found in ${opts.dataPaths.join(', ')}`);
  }
  for (const [reason, n] of Object.entries(read.skipped)) {
    events?.onInfo?.(`skipped ${n} corpus rows: ${reason}`);
  }
  const routed = routeClusters(read.clusters, DEFAULT_ROUTING, cfg.seed);
  if (routed.unrouted.length > 0) {
    events?.onInfo?.(
      `${routed.unrouted.length} clusters match no task routing (e.g. source "${routed.unrouted[0]?.source}") and are not used`,
    );
  }
  const byTask: Record<Task, readonly Cluster[]> = routed.byTask;
  const sizes = { docmath: byTask.docmath.length, qa: byTask.qa.length, mc: byTask.mc.length };

  runDir.create();
  runDir.cleanTemporary();
  let state: ControllerState | undefined;
  if (opts.resume) {
    const latest = runDir.latestCheckpoint();
    if (latest !== undefined) {
      state = parseControllerState(
        runDir.readController(latest.dir),
        join(latest.dir, 'controller.json'),
      );
      await engine.load(runDir.resolveRef(state.engineRef));
      events?.onInfo?.(`resumed from ${latest.dir} (step ${state.step})`);
    } else {
      events?.onInfo?.(`no checkpoint in ${runDir.root}; starting from step 0`);
    }
    // Steps after the checkpoint (all of them when there is none) were lost: their lines and
    // rollouts go, so the resumed run's files equal an uninterrupted run's.
    runDir.truncateMetricsAfter(state?.step ?? 0);
    runDir.truncateRolloutsAfter(state?.step ?? 0);
  }
  runDir.writeConfig(await recordLearnerTemperature(cfg, engine, events));

  const usable = usableWeights(cfg.data.taskWeights, sizes);
  if (usable.dropped.length > 0 && cfg.mode !== 'rlvr') {
    events?.onInfo?.(
      `the corpus routes no clusters to ${usable.dropped.join(', ')}; its share of each gen batch goes to the other tasks (set data.taskWeights.${usable.dropped[0]}=0 to say so)`,
    );
  }
  const weights = usable.weights;
  const labeled = cfg.mode === 'rlvr' ? readLabeledQuestions(cfg.data.labeledPaths) : [];
  const labeledSampler =
    cfg.mode === 'rlvr'
      ? state
        ? LabeledSampler.fromState(state.sampler, labeled.length)
        : LabeledSampler.create(labeled.length, Rng.derive(cfg.seed, 'labeled'))
      : undefined;
  const sampler =
    cfg.mode === 'rlvr'
      ? undefined
      : state
        ? DomainSampler.fromState(state.sampler, sizes)
        : DomainSampler.create(
            { batchSize: cfg.rollout.genBatchSize, weights, sizes },
            Rng.derive(cfg.seed, 'tasks'),
          );
  const memory = state
    ? HistoryMemory.fromJSON(state.memory)
    : new HistoryMemory(historyCapacity(algo));
  // Checkpoints written before the guard existed have no `references`; they resume with an empty one.
  const references =
    state?.references !== undefined
      ? RepeatGuard.fromJSON(state.references, repeatGuardConfig(algo), 'controller state')
      : new RepeatGuard(repeatGuardConfig(algo));
  const rng = {
    docs: state ? Rng.fromState(state.rng.docs) : Rng.derive(cfg.seed, 'docs'),
    letters: state ? Rng.fromState(state.rng.letters) : Rng.derive(cfg.seed, 'letters'),
    badCase: state ? Rng.fromState(state.rng.badCase) : Rng.derive(cfg.seed, 'bad-cases'),
    verifier: state ? Rng.fromState(state.rng.verifier) : Rng.derive(cfg.seed, 'verifier-groups'),
  };
  let seedCounter = state?.seedCounter ?? Rng.derive(cfg.seed, 'engine').nextU32() & 0x3fffffff;
  const policy = new RolePolicy(opts.engine, {
    maxResponseTokens: cfg.rollout.maxResponseTokens,
    temperature: cfg.rollout.temperature,
    topP: cfg.rollout.topP,
    topK: cfg.rollout.topK,
    enableThinking: cfg.rollout.enableThinking,
    concurrency: cfg.engine.concurrency,
  });

  const startStep = state?.step ?? 0;
  events?.onStart?.({ startStep, endStep: cfg.steps, clusters: sizes });
  let step = startStep;
  const started = performance.now();
  const overBudget = (): boolean =>
    cfg.maxMinutes > 0 && performance.now() - started >= cfg.maxMinutes * 60_000;
  let budgetHit = false;
  while (step < cfg.steps && !opts.signal?.aborted && !budgetHit) {
    const current = step + 1;
    const nextSeed = (): number => {
      const seed = seedCounter;
      seedCounter = (seedCounter + 1000) % 0x40000000; // room for seed + i per sample
      return seed;
    };
    const onPhase = (phase: string): void => events?.onPhase?.(current, phase);
    let outcome: StepOutcome;
    if (labeledSampler !== undefined) {
      outcome = await runRlvrStep(
        {
          policy,
          cfg,
          questions: labeled,
          sampler: labeledSampler,
          nextSeed,
          onPhase,
        },
        current,
      );
    } else {
      const ctx: StepContext = {
        policy,
        cfg,
        algo,
        memory,
        references,
        docRng: rng.docs,
        letterRng: rng.letters,
        nextSeed,
        onPhase,
        sampler: sampler as DomainSampler,
        clustersByTask: byTask,
        badCaseRng: rng.badCase,
        verifierRng: rng.verifier,
      };
      outcome = await runTrainStep(ctx, current);
    }
    runDir.writeRollouts(current, outcome.rollouts);
    step = current;
    budgetHit = overBudget();
    if (budgetHit)
      events?.onInfo?.(`time budget of ${cfg.maxMinutes} min reached after step ${step}`);
    const isLast = step >= cfg.steps || opts.signal?.aborted === true || budgetHit;
    if (step % cfg.checkpointEvery === 0 || isLast) {
      const tc = performance.now();
      const tmp = runDir.beginCheckpoint(step);
      const engineRef = await engine.save(stepName(step));
      const finalDir = join(runDir.checkpointsDir, stepName(step));
      const controller: ControllerState = {
        version: 1,
        step,
        sampler: labeledSampler ? labeledSampler.state() : (sampler as DomainSampler).state(),
        memory: memory.toJSON(),
        references: references.toJSON(),
        rng: {
          docs: [...rng.docs.state()],
          letters: [...rng.letters.state()],
          badCase: [...rng.badCase.state()],
          verifier: [...rng.verifier.state()],
        },
        seedCounter,
        engineRef: runDir.storeRef(engineRef),
      };
      writeFileAtomic(join(tmp, 'controller.json'), `${JSON.stringify(controller)}\n`);
      // Metrics first, then the checkpoint: a crash between them is healed by truncation on resume.
      outcome.metrics['timing_s/save_checkpoint'] = (performance.now() - tc) / 1000;
      runDir.appendMetrics(outcome.metrics);
      runDir.commitCheckpoint(step, tmp);
      events?.onCheckpoint?.(step, finalDir);
    } else {
      runDir.appendMetrics(outcome.metrics);
    }
    events?.onStep?.(step, outcome.metrics);
  }
  return step;
}
