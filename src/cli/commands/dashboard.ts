/** `spell dashboard RUN_DIR...`: a live local page of one or more runs, with a rollout browser. */
import type { Command } from 'commander';
import { startDashboard } from '../../dashboard/index.ts';
import { parsePortFlag } from '../flags.ts';

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(
      'serve a live page of one or more runs on 127.0.0.1: charts, and a rollout browser of every sample',
    )
    .argument('<runDirs...>', 'spell train run directories (several are shown side by side)')
    .option('--port <p>', 'port on 127.0.0.1 (0 = any free port)', '8765')
    .action(async (runDirs: string[], opts: { port: string }) => {
      const dash = await startDashboard({ runDirs, port: parsePortFlag(opts.port, '--port') });
      process.stdout.write(`spell dashboard: ${dash.url}\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          void dash.close().then(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
