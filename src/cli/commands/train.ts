/**
 * `spell train`: the SPELL self-play loop. With no arguments it trains the bundled default model on
 * the bundled corpus with preset `local`.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadTrainConfig } from '../../train/load-config.ts';
import type { ConfigTree } from '../../train/config.ts';
import { RunDir } from '../../train/run-dir.ts';
import { runTraining } from '../../train/trainer.ts';
import { openTrainEngine } from '../../train/engine-factory.ts';
import { defaultCorpusPath } from '../../data/index.ts';
import { formatStepSummary } from '../../train/summary.ts';
import { ConfigurationError, InterruptedError } from '../../core/errors.ts';
import { startDashboard, type Dashboard } from '../../dashboard/index.ts';
import { parseDirFlag, parseIntFlag, parsePortFlag } from '../flags.ts';
import { onInterrupt } from '../interrupt.ts';
import { progressBar } from '../progress.ts';

interface TrainFlags {
  config?: string;
  preset?: string;
  engine?: string;
  model?: string;
  baseUrl?: string;
  apiKey?: string;
  data?: string[];
  steps?: string;
  runDir?: string;
  resume?: boolean;
  overwrite?: boolean;
  seed?: string;
  name?: string;
  progress?: boolean;
  printConfig?: boolean;
  dashboard?: boolean;
  dashboardPort?: string;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'Run SPELL self-play training (questioner, responder, verifier; one GRPO update per step)',
    )
    .argument('[overrides...]', 'config overrides as key.path=value (e.g. rollout.groupSize=4)')
    .option('--config <file>', 'YAML config file')
    .option(
      '--preset <name>',
      'local (embedded engine, 2 CPU cores) or paper (published 7B run)',
      'local',
    )
    .option('--engine <kind>', 'local or tinker')
    .option('--model <dirOrName>', 'model folder (local) or base model name (tinker)')
    .option('--base-url <url>', 'Tinker-protocol server URL (tinker engine)')
    .option('--api-key <key>', 'Tinker API key (default: $TINKER_API_KEY)')
    .option(
      '--data <path...>',
      'corpus files or folders (JSONL, parquet, or .txt/.md text folders); default: the bundled corpus',
    )
    .option('--steps <n>', 'train until this step (counting steps already done when resuming)')
    .option('--run-dir <dir>', 'run directory (default: runs/<name>)')
    .option('--name <name>', 'run name')
    .option('--resume', 'continue from the latest complete checkpoint of the run directory')
    .option('--overwrite', 'start afresh in a run directory that holds a run, deleting it')
    .option('--seed <s>', 'master seed')
    .option('--no-progress', 'no progress bar (one summary line per step only)')
    .option('--print-config', 'print the resolved config as YAML and exit')
    .option('--dashboard', 'serve the live dashboard of this run on 127.0.0.1 while it trains')
    .option('--dashboard-port <p>', 'port of --dashboard', '8765')
    .addHelpText(
      'after',
      `
Examples:
  spell train --model models/smollm2 engine.loraRank=16     LoRA rank 16 on the local engine
                                                            (0 = full fine-tuning, the default)
  spell train --run-dir runs/spell --resume --steps 40      continue a run to step 40
  spell train --print-config rollout.groupSize=4            the resolved config, every key

Every key with its default: src/train/config.ts; docs/cli/train.md, docs/lora-export.md.`,
    )
    .action(async (overrides: string[], flags: TrainFlags) => {
      if (flags.resume && flags.overwrite) {
        throw new ConfigurationError('--resume and --overwrite exclude each other; pass one');
      }
      const tree: ConfigTree = {};
      const engine: ConfigTree = {};
      if (flags.engine !== undefined) engine.kind = flags.engine;
      if (flags.model !== undefined) engine.model = flags.model;
      if (flags.baseUrl !== undefined) engine.baseUrl = flags.baseUrl;
      const apiKey = flags.apiKey ?? process.env.TINKER_API_KEY;
      if (apiKey !== undefined) engine.apiKey = apiKey;
      if (Object.keys(engine).length > 0) tree.engine = engine;
      if (flags.data !== undefined) tree.data = { paths: flags.data };
      if (flags.steps !== undefined) tree.steps = parseIntFlag(flags.steps, '--steps');
      if (flags.seed !== undefined) tree.seed = parseIntFlag(flags.seed, '--seed');
      if (flags.name !== undefined) tree.name = flags.name;
      const cfg = loadTrainConfig({
        ...(flags.preset !== undefined ? { preset: flags.preset } : {}),
        ...(flags.config !== undefined ? { configFile: flags.config } : {}),
        flags: tree,
        overrides,
      });
      if (flags.printConfig) {
        const { stringify } = await import('yaml');
        process.stdout.write(
          stringify({ ...cfg, engine: { ...cfg.engine, apiKey: cfg.engine.apiKey ? '***' : '' } }),
        );
        return;
      }
      const runDir = new RunDir(
        resolve(parseDirFlag(flags.runDir ?? join('runs', cfg.name), '--run-dir')),
      );
      const dataPaths = cfg.data.paths.length > 0 ? cfg.data.paths : [defaultCorpusPath()];
      // the port is checked before the engine is opened, so a busy port fails fast
      const dashPort =
        flags.dashboard === true
          ? parsePortFlag(flags.dashboardPort ?? '8765', '--dashboard-port')
          : undefined;
      const opened = await openTrainEngine(cfg, join(runDir.checkpointsDir, 'engine'));
      let dash: Dashboard | undefined;
      let finished = false;
      const interrupt = onInterrupt('train', 'stopping after this step');
      const bar = progressBar(
        flags.progress !== false,
        'step {step} [{bar}] {percentage}% | {phase} | ETA {eta_formatted}',
      );
      try {
        if (dashPort !== undefined) {
          mkdirSync(runDir.root, { recursive: true });
          dash = await startDashboard({ runDirs: [runDir.root], port: dashPort });
          process.stderr.write(`spell train: dashboard at ${dash.url}\n`);
        }
        const last = await runTraining({
          cfg,
          runDir,
          engine: opened,
          dataPaths,
          resume: flags.resume === true,
          overwrite: flags.overwrite === true,
          signal: interrupt.signal,
          events: {
            onStart: ({ startStep, endStep, clusters }) => {
              process.stderr.write(
                `spell train: ${runDir.root} | engine ${cfg.engine.kind} (${opened.description}) | clusters docmath ${clusters.docmath}, qa ${clusters.qa}, mc ${clusters.mc} | steps ${startStep + 1}..${endStep}\n`,
              );
              bar?.start(endStep, startStep, { step: startStep + 1, phase: 'starting' });
            },
            onPhase: (step, phase) => bar?.update({ step, phase: phase || 'writing' }),
            onStep: (step, metrics) => {
              bar?.update(step, { step, phase: 'done' });
              const line = formatStepSummary(step, metrics);
              if (bar) bar.stop();
              process.stdout.write(`${line}\n`);
              if (bar && step < cfg.steps)
                bar.start(cfg.steps, step, { step: step + 1, phase: 'starting' });
            },
            onCheckpoint: (step, dir) => process.stderr.write(`checkpoint step ${step}: ${dir}\n`),
            onInfo: (message) => process.stderr.write(`spell train: ${message}\n`),
          },
        });
        bar?.stop();
        process.stderr.write(
          `spell train: finished at step ${last}; run directory ${runDir.root}\n`,
        );
        if (interrupt.signal.aborted) {
          throw new InterruptedError(
            `train interrupted after step ${last}; continue with --resume --run-dir ${runDir.root}`,
          );
        }
        finished = true;
      } finally {
        bar?.stop();
        interrupt.dispose();
        await opened.engine.close();
        if (!finished) await dash?.close();
      }
      if (dash !== undefined) {
        // the page stays up to look at the finished run; Ctrl-C closes it
        process.stderr.write(`spell train: dashboard still at ${dash.url} (Ctrl-C to stop)\n`);
        await new Promise<void>((done) => process.once('SIGINT', () => done()));
        await dash.close();
      }
    });
}
