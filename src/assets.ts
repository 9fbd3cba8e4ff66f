/**
 * Where the bundled assets live: the default model folder and the default corpus, both committed
 * under `assets/` with the commands that regenerate them (see README).
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The bundled model folder (config.json, model.safetensors, tokenizer files). */
export function defaultModelDir(): string {
  return join(ROOT, 'assets', 'model');
}

/** The repository root (for locating bundled assets). */
export function packageRoot(): string {
  return ROOT;
}
