/**
 * HF-format model folders: `config.json` + `model.safetensors` (or a sharded
 * `model.safetensors.index.json`), plus tokenizer files that other parts of spell read. Loading
 * checks every tensor's name and shape against the config; writing is F32 and atomic per file.
 */
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, ConfigurationError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/atomic.ts';
import { parseQwen3Config, toHfConfigJson } from './config.ts';
import type { Qwen3Config } from './config.ts';
import { Qwen3Model } from './model.ts';
import type { ParamTable } from './params.ts';
import { readSafetensorsIndex, readTensorInto, writeSafetensors } from './safetensors.ts';
import type { SafetensorsIndex } from './safetensors.ts';

/**
 * Read and validate `<dir>/config.json`.
 * @throws CheckpointError when the file is missing or not JSON; ConfigurationError when invalid
 */
export function loadModelConfig(dir: string): Qwen3Config {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CheckpointError(`model folder ${dir} has no readable config.json`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigurationError(`${file} is not valid JSON`, { cause: err });
  }
  return parseQwen3Config(raw, file);
}

/** The safetensors files of a folder, with which file holds each tensor. */
function openWeights(dir: string): Map<string, SafetensorsIndex> {
  const single = join(dir, 'model.safetensors');
  const byName = new Map<string, SafetensorsIndex>();
  if (existsSync(single)) {
    const idx = readSafetensorsIndex(single);
    for (const name of idx.tensors.keys()) byName.set(name, idx);
    return byName;
  }
  const indexFile = join(dir, 'model.safetensors.index.json');
  if (!existsSync(indexFile)) {
    throw new CheckpointError(
      `model folder ${dir} has neither model.safetensors nor model.safetensors.index.json`,
    );
  }
  let weightMap: Record<string, string>;
  try {
    const parsed = JSON.parse(readFileSync(indexFile, 'utf8')) as {
      weight_map?: Record<string, string>;
    };
    if (!parsed.weight_map || typeof parsed.weight_map !== 'object')
      throw new Error('no weight_map');
    weightMap = parsed.weight_map;
  } catch (err) {
    throw new CheckpointError(`${indexFile}: expected a JSON object with a weight_map`, {
      cause: err,
    });
  }
  const shards = new Map<string, SafetensorsIndex>();
  for (const [name, shard] of Object.entries(weightMap)) {
    let idx = shards.get(shard);
    if (!idx) {
      idx = readSafetensorsIndex(join(dir, shard));
      shards.set(shard, idx);
    }
    byName.set(name, idx);
  }
  return byName;
}

/**
 * Read every tensor of `table` from the folder's safetensors into `buf` (F32, BF16 or F16 files,
 * one or sharded). Returns how many tensors each stored dtype had.
 * @throws CheckpointError naming the tensor and file on a missing tensor or wrong shape
 */
export function loadWeightsInto(
  dir: string,
  table: ParamTable,
  buf: Float32Array,
): Record<string, number> {
  const files = openWeights(dir);
  const dtypes: Record<string, number> = {};
  for (const e of table.entries) {
    const idx = files.get(e.name);
    if (!idx) {
      const any = files.values().next().value;
      throw new CheckpointError(
        `${any ? any.file : dir}: missing tensor "${e.name}" (expected shape ${JSON.stringify(e.shape)})`,
      );
    }
    readTensorInto(idx, e.name, e.shape, buf.subarray(e.offset, e.offset + e.size));
    const dtype = idx.tensors.get(e.name)?.dtype ?? '?';
    dtypes[dtype] = (dtypes[dtype] ?? 0) + 1;
  }
  return dtypes;
}

/** Load a model folder into a new in-thread model. */
export function loadModelFolder(dir: string): Qwen3Model {
  const config = loadModelConfig(dir);
  const model = new Qwen3Model(config);
  loadWeightsInto(dir, model.table, model.params);
  return model;
}

/** Write `config.json` + `model.safetensors` (F32, HF names) into `dir`. */
export function writeModelFolder(
  dir: string,
  config: Qwen3Config,
  table: ParamTable,
  params: Float32Array,
): void {
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(toHfConfigJson(config), null, 2) + '\n');
  writeSafetensors(
    join(dir, 'model.safetensors'),
    table.entries.map((e) => ({
      name: e.name,
      shape: e.shape,
      data: params.subarray(e.offset, e.offset + e.size),
    })),
    { format: 'pt' },
  );
}

/** Files of a model folder that belong to the tokenizer (copied along with checkpoints). */
const TOKENIZER_FILE =
  /^(tokenizer.*|special_tokens_map\.json|vocab\.json|merges\.txt|generation_config\.json|chat_template.*)$/;

/** Copy the tokenizer files of `fromDir` (if any) into `toDir`. */
export function copyTokenizerFiles(fromDir: string, toDir: string): void {
  if (!existsSync(fromDir)) return;
  for (const name of readdirSync(fromDir)) {
    if (TOKENIZER_FILE.test(name)) copyFileSync(join(fromDir, name), join(toDir, name));
  }
}
