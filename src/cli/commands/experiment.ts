/** `spell experiment table`: the miniature experiment's results table (see scripts/miniature.sh). */
import type { Command } from 'commander';
import { writeExperimentTable } from '../../experiment/table.ts';

export function registerExperiment(program: Command): void {
  const exp = program.command('experiment').description('experiments (see scripts/miniature.sh)');
  exp
    .command('table')
    .description(
      'write OUT/results.md, results.json and results.html (plots) from OUT/eval-<arm>/summary.json of each arm (and OUT/eval-<arm>-step-<N> of intermediate checkpoints)',
    )
    .requiredOption('--out <dir>', 'the experiment folder')
    .argument('<arms...>', 'arm names (baseline spell rlvr)')
    .action((arms: string[], opts: { out: string }) => {
      process.stdout.write(writeExperimentTable(opts.out, arms));
    });
}
