/** `spell report RUN_DIR`: write report.html (offline static charts) for a training run. */
import type { Command } from 'commander';
import { writeReport } from '../../report/run-report.ts';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'write RUN_DIR/report.html: plots of rewards, pass rates, difficulty, verifier agreement, lengths, context growth',
    )
    .argument('<runDir>', 'a spell train run directory')
    .option('--out <file>', 'output file (default: RUN_DIR/report.html)')
    .action((runDir: string, opts: { out?: string }) => {
      const path = writeReport(runDir, opts.out);
      process.stdout.write(`${path}\n`);
    });
}
