/**
 * `spell serve [MODEL_DIR]`: serve a model folder over the Tinker protocol and an
 * OpenAI-compatible API on 127.0.0.1 (another address needs an explicit --host). Prints
 * `listening on <url>` on stdout once ready and runs until SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors.ts';
import { parseIntFlag, parseNumberFlag, parsePortFlag } from '../flags.ts';
import { checkListenable, localProvider, startServer } from '../../serve/index.ts';

/** The bundled default model folder. */
const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../assets/model/', import.meta.url));

interface ServeFlags {
  port: string;
  host: string;
  apiKey?: string;
  allowOrigin?: string[];
  maxEngines: string;
  kvBudgetMb?: string;
  kvOvercommit: string;
  idleUnloadMinutes: string;
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
    .option('--host <H>', 'address to bind (anything but loopback needs --api-key)', '127.0.0.1')
    .option('--api-key <K>', 'require this key in X-API-Key or Authorization: Bearer')
    .option(
      '--allow-origin <ORIGIN...>',
      'browser origins (scheme://host:port) allowed to call the server',
    )
    .option('--max-body-mb <N>', 'largest request body in MiB', '64')
    .option('--max-engines <N>', 'most engines (models) loaded at once, the base one included', '8')
    .option(
      '--kv-budget-mb <N>',
      'KV-cache memory all sampling requests may hold together (default: a quarter of RAM)',
    )
    .option(
      '--kv-overcommit <X>',
      'admit requests whose worst-case KV needs add up to X times the budget (the budget still bounds what is held)',
      '4',
    )
    .option('--idle-unload-minutes <M>', 'unload engines idle this long', '10')
    .option(
      '--checkpoint-dir <DIR>',
      'where checkpoints are written (default: $XDG_DATA_HOME/spell/serve-checkpoints/<model>)',
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
      const maxEngines = parseIntFlag(flags.maxEngines, '--max-engines', { min: 1 });
      const idleMinutes = parseNumberFlag(flags.idleUnloadMinutes, '--idle-unload-minutes', {
        min: 0,
      });
      const kvBudgetMb =
        flags.kvBudgetMb === undefined
          ? undefined
          : parseNumberFlag(flags.kvBudgetMb, '--kv-budget-mb', { min: 0 });
      const kvOvercommit = parseNumberFlag(flags.kvOvercommit, '--kv-overcommit', { min: 1 });
      await checkListenable(flags.host, port);
      const { provider, extraRoutes, checkpointDir } = localProvider({
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
        ...(flags.apiKey !== undefined ? { apiKey: flags.apiKey } : {}),
        ...(flags.allowOrigin ? { allowedOrigins: flags.allowOrigin } : {}),
        limits: {
          maxEngines,
          idleUnloadMs: idleMinutes * 60_000,
          kvOvercommit,
          ...(kvBudgetMb !== undefined
            ? { kvBudgetBytes: Math.floor(kvBudgetMb * 1024 * 1024) }
            : {}),
        },
        ...(extraRoutes ? { extraRoutes } : {}),
      });
      process.stderr.write(`spell serve: checkpoints go to ${checkpointDir}\n`);
      process.stdout.write(`listening on ${server.url} (model ${provider.modelName})\n`);
      if (!extraRoutes) {
        process.stderr.write(
          'spell serve: the model folder has no tokenizer.json, so the OpenAI-compatible routes are off\n',
        );
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      // Closing stops the engines at once: an abandoned computation does not outlive the server.
      // A second signal while closing exits without waiting.
      const force = (): never => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      await server.close();
    });
}
