/** `spell dashboard RUN_DIR...`: a live local page of one or more runs, with a rollout browser. */
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors.ts';
import { startDashboard } from '../../dashboard/index.ts';

/** Parse --port: an integer in 0..65535 (0 = any free port). */
export function parsePort(raw: string, flag = '--port'): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535)
    throw new ConfigurationError(`${flag} expects a port number 0..65535, got "${raw}"`);
  return Number(raw);
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(
      'serve a live page of one or more runs on 127.0.0.1: charts, and a rollout browser of every sample',
    )
    .argument('<runDirs...>', 'spell train run directories (several are shown side by side)')
    .option('--port <p>', 'port on 127.0.0.1 (0 = any free port)', '8765')
    .action(async (runDirs: string[], opts: { port: string }) => {
      const dash = await startDashboard({ runDirs, port: parsePort(opts.port) });
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
