/**
 * `--tokenizer` for the commands that talk to a remote server (`spell eval`, `spell generate`):
 * an HF tokenizer folder, or a GGUF file, whose own tokenizer and chat template are read from its
 * metadata (tokenizer.ts). A llama.cpp server serving a GGUF has no vLLM `/tokenize` that applies
 * the chat template, so the file it serves is the exact tokenizer to pass.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadTokenizer, tokenizerFromJson, type HfTokenizer } from '../../text/index.ts';
import { readGgufHeader } from './reader.ts';
import { ggufTokenizerFiles } from './tokenizer.ts';

/**
 * The tokenizer at `path`: a folder (tokenizer.json + tokenizer_config.json) or a `.gguf` file.
 * @throws DataError for a missing or corrupt folder, CheckpointError for an unreadable GGUF or
 *   one whose tokenizer is unsupported (both name the file)
 */
export function loadTokenizerFrom(path: string): HfTokenizer {
  const abs = resolve(path);
  if (existsSync(abs) && statSync(abs).isFile() && abs.toLowerCase().endsWith('.gguf')) {
    const files = ggufTokenizerFiles(readGgufHeader(abs));
    return tokenizerFromJson(abs, files.tokenizerJson, files.tokenizerConfig);
  }
  return loadTokenizer(path);
}
