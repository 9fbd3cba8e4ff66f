/**
 * The synthetic suite: the held-out questions of a generated corpus (`eval.jsonl`; by default the
 * bundled `assets/corpus/eval.jsonl`), with answers known by construction. Lets the embedded
 * model be measured before and after `spell train` with the same harness as the paper suite.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../core/errors.ts';
import { defaultCorpusPath, readEvalSet } from '../../data/index.ts';
import { mcQuestionBlock } from '../prompts.ts';
import type { EvalQuestion } from '../question.ts';

/** The eval file of a corpus folder or file path; default: the bundled corpus. */
export function syntheticEvalFile(dataDir?: string): string {
  const base = dataDir ?? defaultCorpusPath();
  const file = existsSync(base) && statSync(base).isDirectory() ? join(base, 'eval.jsonl') : base;
  if (!existsSync(file)) {
    throw new DataError(
      `synthetic: ${file} does not exist (expected the eval.jsonl of a corpus made by \`spell data synth\`)`,
      { file },
    );
  }
  return file;
}

/** Every question of the synthetic eval file, grouped by task in file order. */
export function loadSynthetic(dataDir?: string): EvalQuestion[] {
  const file = syntheticEvalFile(dataDir);
  return readEvalSet(file).map((r) => ({
    task: r.task,
    subTask: r.kind,
    id: r.id,
    kind: r.task,
    context: r.documents.join('\n\n'),
    question:
      r.task === 'mc' && r.options !== undefined
        ? mcQuestionBlock(r.question, r.options)
        : r.question,
    answer: r.answer,
  }));
}
