/** Write a generated corpus to a folder, one atomic write per file (manifest last). */
import { writeFileAtomic } from '../../core/atomic.ts';
import { join } from 'node:path';
import { synthCorpus, type SynthFiles, type SynthOptions } from './corpus.ts';

/** Generate and write `train.jsonl`, `eval.jsonl` and `manifest.json` into `dir`. */
export function writeSynthCorpus(dir: string, options: SynthOptions): SynthFiles {
  const files = synthCorpus(options);
  writeFileAtomic(join(dir, 'train.jsonl'), files['train.jsonl']);
  writeFileAtomic(join(dir, 'eval.jsonl'), files['eval.jsonl']);
  writeFileAtomic(join(dir, 'manifest.json'), files['manifest.json']);
  return files;
}
