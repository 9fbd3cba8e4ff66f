/** `spell experiment table`: the miniature experiment's results table (see scripts/miniature.sh). */
import type { Command } from 'commander';
import { syntheticEvalFile } from '../../eval/load/synthetic.ts';
import { writeReadingTable } from '../../experiment/reading-table.ts';
import { writeExperimentTable } from '../../experiment/table.ts';

export function registerExperiment(program: Command): void {
  const exp = program.command('experiment').description('experiments (see scripts/miniature.sh)');
  exp
    .command('table')
    .description(
      'write OUT/results.md, results.json and results.html (plots) from OUT/eval-<arm>/summary.json of each arm (and OUT/eval-<arm>-step-<N> of intermediate checkpoints)',
    )
    .requiredOption('--out <dir>', 'the experiment folder')
    .option(
      '--paired-with <arm>',
      "add each arm's paired difference against this arm (per question, over the questions both answered, ± its standard error)",
    )
    .argument('<arms...>', 'arm names (baseline spell rlvr)')
    .action((arms: string[], opts: { out: string; pairedWith?: string }) => {
      process.stdout.write(
        writeExperimentTable(opts.out, arms, {
          ...(opts.pairedWith !== undefined ? { pairedWith: opts.pairedWith } : {}),
        }),
      );
    });
  exp
    .command('reading')
    .description(
      'write OUT/reading.md and reading.json: per arm and task, the share of held-out answers that are right, copied from an evidence document, from a distractor document, found in no document, or missing',
    )
    .requiredOption('--out <dir>', 'the experiment folder')
    .option(
      '--data-dir <dir>',
      'corpus folder or eval.jsonl the arms were evaluated on (default: the bundled corpus)',
    )
    .argument('<arms...>', 'arm names (baseline spell rlvr)')
    .action((arms: string[], opts: { out: string; dataDir?: string }) => {
      process.stdout.write(writeReadingTable(opts.out, arms, syntheticEvalFile(opts.dataDir)));
    });
}
