/**
 * `spell pretrain`: supervised warm-start of an embedded model on examples generated from the
 * synthetic corpus generator's training seeds (documents + the three SPELL role formats), then
 * an optional held-out probe that samples each role and reports parse / format / accuracy rates.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultModelDir } from '../../assets.ts';
import { writeFileAtomic } from '../../core/atomic.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { DEFAULT_SYNTH_OPTIONS } from '../../data/synth/default.ts';
import { loadModelFolder } from '../../model/index.ts';
import {
  formatProbe,
  heldOutClusters,
  PRETRAIN_DEFAULTS,
  PROBE_DEFAULTS,
  parseRoleWeights,
  probeModel,
  REASONING_STYLES,
  runPretrain,
} from '../../pretrain/index.ts';
import { loadTokenizer } from '../../text/index.ts';
import { parseChoiceFlag, parseIntFlag, parseNumberFlag, parseShareFlag } from '../flags.ts';

interface PretrainFlags {
  out: string;
  from?: string;
  steps: string;
  minutes?: string;
  stopAfter?: string;
  batchTokens: string;
  lr: string;
  warmup: string;
  seed: string;
  heldOutSeed?: string;
  evalEvery: string;
  checkpointEvery: string;
  clustersPerTask: string;
  wrongRate: string;
  roleWeights?: string;
  evalPromptShare: string;
  reasoning: string;
  drillChatShare: string;
  resume?: boolean;
  probe: string;
}

export function registerPretrain(program: Command): void {
  const d = PRETRAIN_DEFAULTS;
  program
    .command('pretrain')
    .description(
      'supervised warm-start of an embedded model on generated documents and SPELL role examples (training seeds only)',
    )
    .requiredOption('--out <dir>', 'output model folder (also gets checkpoint/, metrics.jsonl)')
    .option('--from <dir>', 'model folder to start from (default: the bundled model)')
    .option('--steps <n>', 'optimizer steps (0: only copy and probe)', String(d.steps))
    .option('--minutes <m>', 'stop after this much wall time (default: no limit)')
    .option(
      '--stop-after <n>',
      'stop after step N, keeping the schedule of --steps (reproduces a run that was cut short)',
    )
    .option('--batch-tokens <n>', 'sequence tokens per optimizer step', String(d.batchTokens))
    .option('--lr <x>', 'peak learning rate (cosine decay to 10%)', String(d.learningRate))
    .option('--warmup <n>', 'linear warm-up steps', String(d.warmupSteps))
    .option('--seed <s>', 'seed of the example stream', String(d.seed))
    .option(
      '--held-out-seed <s>',
      'seed of the held-out example set (default: --seed); equal values make runs comparable',
    )
    .option('--eval-every <k>', 'held-out loss per role every K steps (0: at the end)', '0')
    .option('--checkpoint-every <k>', 'checkpoint every K steps', String(d.checkpointEvery))
    .option('--clusters-per-task <n>', 'training clusters per task', String(d.clustersPerTask))
    .option('--wrong-rate <x>', 'share of deliberately wrong responder answers', '0.2')
    .option(
      '--role-weights <spec>',
      'example mix, e.g. "copy=0.5,lm=0.1" (unnamed roles keep their defaults: lm=0.15, questioner=0.3, responder=0.17, grounding=0.08, verifier=0.3, copy=0, repeat=0, induction=0, quote=0, pointer=0)',
    )
    .option(
      '--eval-prompt-share <x>',
      "share of responder examples posed in spell eval's prompt wording (training clusters only)",
      '0',
    )
    .option(
      '--reasoning <style>',
      `how qa/mc derivations are written: ${REASONING_STYLES.join(' | ')} (chain quotes the evidence hop by hop)`,
      'subjects',
    )
    .option(
      '--drill-chat-share <x>',
      'share of induction and pointer drills posed as a chat turn (the rest bare)',
      String(d.drillChatShare),
    )
    .option('--resume', 'continue from <out>/checkpoint/')
    .option('--probe <n>', 'held-out prompts per task for the sampling probe (0: skip)', '0')
    .action((f: PretrainFlags) => {
      const fromDir = resolve(f.from ?? defaultModelDir());
      const outDir = resolve(f.out);
      if (fromDir === outDir) {
        throw new ConfigurationError(
          `--out must differ from --from (${fromDir}); write to a new folder and copy it over`,
        );
      }
      const wrongRate = parseShareFlag(f.wrongRate, '--wrong-rate');
      let roleWeights = d.weights;
      try {
        if (f.roleWeights !== undefined) roleWeights = parseRoleWeights(f.roleWeights, d.weights);
      } catch (e) {
        throw new ConfigurationError((e as Error).message);
      }
      const result = runPretrain({
        ...d,
        fromDir,
        outDir,
        steps: parseIntFlag(f.steps, '--steps', { min: 0 }),
        minutes:
          f.minutes === undefined
            ? Infinity
            : parseNumberFlag(f.minutes, '--minutes', { above: 0 }),
        ...(f.stopAfter === undefined
          ? {}
          : { stopAfter: Math.max(1, parseIntFlag(f.stopAfter, '--stop-after', { min: 0 })) }),
        batchTokens: Math.max(1, parseIntFlag(f.batchTokens, '--batch-tokens', { min: 0 })),
        learningRate: parseNumberFlag(f.lr, '--lr', { above: 0 }),
        warmupSteps: parseIntFlag(f.warmup, '--warmup', { min: 0 }),
        seed: parseIntFlag(f.seed, '--seed', { min: 0 }),
        ...(f.heldOutSeed === undefined
          ? {}
          : { heldOutSeed: parseIntFlag(f.heldOutSeed, '--held-out-seed', { min: 0 }) }),
        evalEvery: parseIntFlag(f.evalEvery, '--eval-every', { min: 0 }),
        checkpointEvery: Math.max(
          1,
          parseIntFlag(f.checkpointEvery, '--checkpoint-every', { min: 0 }),
        ),
        clustersPerTask: Math.max(
          1,
          parseIntFlag(f.clustersPerTask, '--clusters-per-task', { min: 0 }),
        ),
        examples: {
          ...d.examples,
          wrongRate,
          evalPromptShare: parseShareFlag(f.evalPromptShare, '--eval-prompt-share'),
          reasoning: parseChoiceFlag(f.reasoning, '--reasoning', REASONING_STYLES),
        },
        weights: roleWeights,
        drillChatShare: parseShareFlag(f.drillChatShare, '--drill-chat-share'),
        resume: f.resume === true,
        log: (line) => process.stdout.write(line + '\n'),
      });
      process.stdout.write(
        `wrote ${outDir}: ${result.steps} steps (stopped by ${result.stoppedBy}), ` +
          `${result.tokens} tokens in ${result.seconds.toFixed(0)}s; held-out loss ` +
          `${JSON.stringify(result.heldOutLoss)}; on ambiguous lookups ` +
          `${JSON.stringify(result.heldOutAmbiguous)}\n`,
      );
      const perTask = parseIntFlag(f.probe, '--probe', { min: 0 });
      if (perTask > 0) {
        const model = loadModelFolder(outDir);
        const tok = loadTokenizer(outDir);
        const t0 = Date.now();
        const probe = probeModel(
          model,
          tok,
          heldOutClusters(DEFAULT_SYNTH_OPTIONS),
          { ...PROBE_DEFAULTS, perTask },
          (done, total) => process.stderr.write(`\rprobe ${done}/${total}`),
        );
        process.stderr.write('\n');
        writeFileAtomic(join(outDir, 'probe.json'), JSON.stringify(probe, null, 2) + '\n');
        process.stdout.write(
          `held-out probe (${((Date.now() - t0) / 1000).toFixed(0)}s):\n${formatProbe(probe)}\n`,
        );
      }
    });
}
