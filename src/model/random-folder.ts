/**
 * Random model folders: what `spell model init` writes and the fixture of engine tests. Writes
 * config.json + model.safetensors (tokenizer files are added by the text layer).
 */
import type { Qwen3Config } from './config.ts';
import { writeModelFolder } from './model-folder.ts';
import { initParams, paramTable } from './params.ts';

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
