/**
 * Wiring `spell serve` to a model folder: an EngineProvider that opens LocalEngines (each in its own
 * worker thread) on the folder, and the OpenAI-compatible routes when the folder has a tokenizer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { ConfigurationError } from '../core/errors.ts';
import { LocalEngine } from '../engine/local/index.ts';
import { loadTokenizer } from '../text/tokenizer.ts';
import { openAiRoutes } from './openai-routes.ts';
import { TokenizerPool } from './tokenizer-pool.ts';
import type { ExtraRoutes } from './server.ts';
import type { EngineProvider, TinkerService } from './tinker-service.ts';

export interface LocalServeOptions {
  /** An HF-format model folder (config.json + model.safetensors [+ tokenizer files]). */
  readonly modelDir: string;
  /** Where checkpoints go (default `defaultCheckpointDir(modelName)`, never the model's own folder). */
  readonly checkpointDir?: string;
  /** The name clients use as `base_model` / `model` (default: the folder's name). */
  readonly modelName?: string;
}

/**
 * A provider of LocalEngines on one folder, plus the OpenAI routes factory (undefined when the
 * folder has no tokenizer.json).
 * @throws ConfigurationError when the folder or its config.json is missing
 */
/**
 * Where `spell serve` keeps checkpoints unless told: a data folder the user owns
 * ($SPELL_DATA_DIR, else $XDG_DATA_HOME/spell, else ~/.local/share/spell) under
 * `serve-checkpoints/<modelName>`, so serving a read-only or packaged model never writes into it.
 */
export function defaultCheckpointDir(modelName: string): string {
  const env = process.env;
  const root =
    env.SPELL_DATA_DIR ??
    (env.XDG_DATA_HOME ? join(env.XDG_DATA_HOME, 'spell') : join(homedir(), '.local/share/spell'));
  return resolve(root, 'serve-checkpoints', modelName);
}

/** KV bytes per token position of an HF config (float32 caches: layers × 2 × kv heads × head dim × 4). */
function kvBytesPerToken(modelDir: string): number | undefined {
  try {
    const c = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const layers = Number(c.num_hidden_layers);
    const heads = Number(c.num_attention_heads);
    const kvHeads = Number(c.num_key_value_heads ?? heads);
    const headDim = Number(c.head_dim ?? Number(c.hidden_size) / heads);
    const bytes = layers * 2 * kvHeads * headDim * 4;
    return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
  } catch {
    return undefined; // the engine reports a broken config itself, precisely
  }
}

export function localProvider(opts: LocalServeOptions): {
  provider: EngineProvider;
  extraRoutes: ((service: TinkerService) => Promise<ExtraRoutes>) | undefined;
  /** The folder checkpoints are written to. */
  checkpointDir: string;
} {
  const modelDir = resolve(opts.modelDir);
  if (!existsSync(join(modelDir, 'config.json'))) {
    throw new ConfigurationError(
      `model folder ${modelDir} has no config.json; expected an HF-format Qwen3 folder (config.json + model.safetensors)`,
    );
  }
  const modelName = opts.modelName ?? basename(modelDir);
  const checkpointDir = resolve(opts.checkpointDir ?? defaultCheckpointDir(modelName));
  const perToken = kvBytesPerToken(modelDir);
  const provider: EngineProvider = {
    modelName,
    ...(perToken !== undefined ? { kvBytesPerToken: perToken } : {}),
    create: (o) =>
      LocalEngine.open({
        modelDir,
        checkpointDir,
        ...(o?.lora ? { lora: o.lora } : {}),
        ...(o?.ledger ? { ledger: o.ledger } : {}),
      }),
  };
  const hasTokenizer = existsSync(join(modelDir, 'tokenizer.json'));
  const extraRoutes = hasTokenizer
    ? async (service: TinkerService): Promise<ExtraRoutes> => {
        const info = await service.ready();
        const encoder = new TokenizerPool(modelDir);
        return {
          ...openAiRoutes(service, {
            modelName,
            tokenizer: loadTokenizer(modelDir),
            maxContext: info.maxContext,
            encoder,
          }),
          close: () => encoder.close(),
        };
      }
    : undefined;
  return { provider, extraRoutes, checkpointDir };
}
