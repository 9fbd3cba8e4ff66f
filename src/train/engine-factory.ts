/**
 * Opens the PolicyEngine and tokenizer a training run uses: the embedded engine on a model folder
 * (the bundled default when none is given), or a Tinker-protocol server.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigurationError } from '../core/errors.ts';
import type { LossAggregation } from '../engine/types.ts';
import { LocalEngine } from '../engine/local/index.ts';
import { TinkerEngine } from '../engine/tinker/client.ts';
import { loadTokenizer } from '../text/tokenizer.ts';
import { defaultModelDir } from '../assets.ts';
import type { TrainConfig } from './config.ts';
import type { EngineHandle } from './policy.ts';

/** The engine handle a run trains with (policy.ts), and a line describing it. */
export interface OpenedEngine extends EngineHandle {
  readonly description: string;
}

/**
 * @param checkpointDir where the local engine writes its weights + optimizer checkpoints
 */
export async function openTrainEngine(
  cfg: TrainConfig,
  checkpointDir: string,
): Promise<OpenedEngine> {
  if (cfg.engine.kind === 'local') {
    const modelDir = resolve(cfg.engine.model !== '' ? cfg.engine.model : defaultModelDir());
    if (!existsSync(join(modelDir, 'config.json'))) {
      throw new ConfigurationError(
        `model folder ${modelDir} has no config.json; pass --model DIR with an HF-format Qwen3 folder`,
      );
    }
    const tokDir = cfg.engine.tokenizer !== '' ? cfg.engine.tokenizer : modelDir;
    const tokenizer = loadTokenizer(tokDir);
    const rank = cfg.engine.loraRank ?? 0;
    const engine = await LocalEngine.open({
      modelDir,
      checkpointDir,
      ...(rank > 0
        ? {
            lora: {
              rank,
              alpha: cfg.engine.loraAlpha,
              targets: cfg.engine.loraTargets,
              seed: cfg.seed,
            },
          }
        : {}),
    });
    return {
      engine,
      tokenizer,
      lossAggregation: pickAggregation(cfg, 'sum'),
      description: `local ${modelDir}${rank > 0 ? ` (LoRA rank ${rank})` : ''}`,
    };
  }
  const engine = await TinkerEngine.connect({
    baseUrl: cfg.engine.baseUrl,
    baseModel: cfg.engine.model,
    ...(cfg.engine.apiKey !== '' ? { apiKey: cfg.engine.apiKey } : {}),
    loraRank: cfg.engine.loraRank ?? 32,
    // Without a seed SkyRL tx draws the adapter's initial A at random, and a rerun of the same
    // config would not reproduce (spell serve and hosted Tinker take the seed as well).
    loraSeed: cfg.seed,
    ...(cfg.engine.lossAggregation !== 'auto'
      ? { lossAggregation: cfg.engine.lossAggregation }
      : {}),
    ...(cfg.engine.tokenizer !== '' ? { tokenizerDir: cfg.engine.tokenizer } : {}),
    wire: cfg.engine.wire,
  });
  try {
    const info = await engine.info();
    const tokDir = cfg.engine.tokenizer !== '' ? cfg.engine.tokenizer : info.tokenizerDir;
    if (tokDir === undefined || !existsSync(join(tokDir, 'tokenizer.json'))) {
      throw new ConfigurationError(
        `the Tinker server does not ship a tokenizer; pass engine.tokenizer=DIR (an HF tokenizer folder for ${cfg.engine.model})`,
      );
    }
    return {
      engine,
      tokenizer: loadTokenizer(tokDir),
      lossAggregation: pickAggregation(cfg, info.lossAggregation),
      description: `tinker ${cfg.engine.baseUrl} ${info.modelName} (${info.lossAggregation})`,
    };
  } catch (err) {
    await engine.close();
    throw err;
  }
}

function pickAggregation(cfg: TrainConfig, detected: LossAggregation): LossAggregation {
  return cfg.engine.lossAggregation === 'auto' ? detected : cfg.engine.lossAggregation;
}
