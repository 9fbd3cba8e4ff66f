/**
 * `spell serve [MODEL_DIR]`: serve a model folder over the Tinker protocol and an
 * OpenAI-compatible API on 127.0.0.1 (another address needs an explicit --host). Prints
 * `listening on <url>` on stdout once ready and runs until SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors.ts';
import { parseNumberFlag, parsePortFlag } from '../flags.ts';
import { localProvider, startServer } from '../../serve/index.ts';

/** The bundled default model folder. */
const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../assets/model/', import.meta.url));

interface ServeFlags {
  port: string;
  host: string;
  apiKey?: string;
  maxBodyMb: string;
  checkpointDir?: string;
  modelName?: string;
  longPollSeconds: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve a model folder over the Tinker protocol and an OpenAI-compatible API (127.0.0.1 by default)',
    )
    .argument('[MODEL_DIR]', 'HF-format model folder (default: the bundled assets/model/)')
    .option('--port <P>', 'port; 0 picks a free one', '8000')
    .option('--host <H>', 'address to bind (anything but loopback exposes the engine)', '127.0.0.1')
    .option('--api-key <K>', 'require this key in X-API-Key or Authorization: Bearer')
    .option('--max-body-mb <N>', 'largest request body in MiB', '64')
    .option(
      '--checkpoint-dir <DIR>',
      'where checkpoints are written (default <MODEL_DIR>-checkpoints)',
    )
    .option('--model-name <NAME>', 'the model name clients use (default: the folder name)')
    .option('--long-poll-seconds <S>', 'how long retrieve_future holds a pending request', '25')
    .action(async (modelDirArg: string | undefined, flags: ServeFlags) => {
      const modelDir = modelDirArg ?? DEFAULT_MODEL_DIR;
      if (modelDirArg === undefined && !existsSync(DEFAULT_MODEL_DIR)) {
        throw new ConfigurationError(
          `no MODEL_DIR given and the bundled default model folder ${DEFAULT_MODEL_DIR} does not exist yet; pass a model folder`,
        );
      }
      const port = parsePortFlag(flags.port, '--port');
      const maxBodyMb = parseNumberFlag(flags.maxBodyMb, '--max-body-mb', { min: 0 });
      const longPoll = parseNumberFlag(flags.longPollSeconds, '--long-poll-seconds', { min: 0 });
      const { provider, extraRoutes } = localProvider({
        modelDir,
        ...(flags.checkpointDir ? { checkpointDir: flags.checkpointDir } : {}),
        ...(flags.modelName ? { modelName: flags.modelName } : {}),
      });
      const server = await startServer({
        provider,
        host: flags.host,
        port,
        maxBodyBytes: Math.floor(maxBodyMb * 1024 * 1024),
        longPollMs: longPoll * 1000,
        ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
        ...(extraRoutes ? { extraRoutes } : {}),
      });
      process.stdout.write(`listening on ${server.url} (model ${provider.modelName})\n`);
      if (!['127.0.0.1', 'localhost', '::1'].includes(flags.host) && !flags.apiKey) {
        process.stderr.write(
          `spell serve: warning: bound to ${flags.host} without --api-key; anyone who can reach it can train and sample\n`,
        );
      }
      if (!extraRoutes) {
        process.stderr.write(
          'spell serve: the model folder has no tokenizer.json, so the OpenAI-compatible routes are off\n',
        );
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
