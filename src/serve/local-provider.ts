/**
 * Wiring `spell serve` to a model folder: an EngineProvider that opens LocalEngines (each in its own
 * worker thread) on the folder, and the OpenAI-compatible routes when the folder has a tokenizer.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigurationError } from '../core/errors.ts';
import { LocalEngine } from '../engine/local/index.ts';
import { loadTokenizer } from '../text/tokenizer.ts';
import { openAiRoutes } from './openai-routes.ts';
import type { ExtraRoutes } from './server.ts';
import type { EngineProvider, TinkerService } from './tinker-service.ts';

export interface LocalServeOptions {
  /** An HF-format model folder (config.json + model.safetensors [+ tokenizer files]). */
  readonly modelDir: string;
  /** Where checkpoints go (default `<modelDir>-checkpoints`, LocalEngine's default). */
  readonly checkpointDir?: string;
  /** The name clients use as `base_model` / `model` (default: the folder's name). */
  readonly modelName?: string;
}

/**
 * A provider of LocalEngines on one folder, plus the OpenAI routes factory (undefined when the
 * folder has no tokenizer.json).
 * @throws ConfigurationError when the folder or its config.json is missing
 */
export function localProvider(opts: LocalServeOptions): {
  provider: EngineProvider;
  extraRoutes: ((service: TinkerService) => Promise<ExtraRoutes>) | undefined;
} {
  const modelDir = resolve(opts.modelDir);
  if (!existsSync(join(modelDir, 'config.json'))) {
    throw new ConfigurationError(
      `model folder ${modelDir} has no config.json; expected an HF-format Qwen3 folder (config.json + model.safetensors)`,
    );
  }
  const modelName = opts.modelName ?? basename(modelDir);
  const provider: EngineProvider = {
    modelName,
    create: (o) =>
      LocalEngine.open({
        modelDir,
        ...(opts.checkpointDir ? { checkpointDir: resolve(opts.checkpointDir) } : {}),
        ...(o?.lora ? { lora: o.lora } : {}),
      }),
  };
  const hasTokenizer = existsSync(join(modelDir, 'tokenizer.json'));
  const extraRoutes = hasTokenizer
    ? async (service: TinkerService): Promise<ExtraRoutes> => {
        const info = await service.ready();
        return openAiRoutes(service, {
          modelName,
          tokenizer: loadTokenizer(modelDir),
          maxContext: info.maxContext,
        });
      }
    : undefined;
  return { provider, extraRoutes };
}
