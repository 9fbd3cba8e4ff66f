/**
 * Random model folders: the default policy for `spell train` until a trained one exists, and the
 * fixture of engine tests. Writes config.json + model.safetensors (tokenizer files are added by
 * the text layer).
 */
import { qwen3Config, writeModelFolder, paramTable, initParams } from '../../model/index.ts';
import type { Qwen3Config } from '../../model/index.ts';

/**
 * The default local model: Qwen3 layout sized for two CPU cores, with the Qwen3 tokenizer's
 * vocabulary (151 936 rows, tied embeddings) so it reads the same token ids as real Qwen3 models.
 */
export function localDefaultConfig(): Qwen3Config {
  return qwen3Config({
    hidden_size: 128,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 32,
    intermediate_size: 384,
    vocab_size: 151_936,
    rope_theta: 1_000_000,
    max_position_embeddings: 40_960,
    tie_word_embeddings: true,
    bos_token_id: 151_643,
    eos_token_id: 151_645,
  });
}

/**
 * Write a randomly initialised model folder.
 * @param dir target folder (created; existing config.json/model.safetensors are replaced atomically)
 * @param config model shape
 * @param seed initialisation seed (same seed → same bytes)
 * @returns `dir`
 */
export function createRandomModelFolder(dir: string, config: Qwen3Config, seed: number): string {
  const table = paramTable(config);
  const params = new Float32Array(table.totalSize);
  initParams(config, table, params, seed);
  writeModelFolder(dir, config, table, params);
  return dir;
}
