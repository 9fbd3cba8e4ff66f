/**
 * Where the committed default corpus lives and the options that generated it.
 * Regenerate it with: node bin/spell.js data synth --seed 20250923 --clusters 300 --eval-per-task 60 --out assets/corpus
 */
import { fileURLToPath } from 'node:url';
import type { SynthOptions } from './corpus.ts';

/** The options `assets/corpus/` was generated with (a test checks it regenerates byte for byte). */
export const DEFAULT_SYNTH_OPTIONS: SynthOptions = {
  seed: 20250923,
  clusters: 300,
  evalPerTask: 60,
};

/** Absolute path of the committed default corpus folder (`assets/corpus/` in the repository). */
export function defaultCorpusPath(): string {
  return fileURLToPath(new URL('../../../assets/corpus/', import.meta.url)).replace(/\/$/, '');
}
