/**
 * Loaders for the paper's six benchmarks from local copies of the publishers' files
 * (spell-eval.md §2). Each task reads from `<data-dir>/<task>/` (LongBench v1 tasks also from
 * `<data-dir>/longbench/`), into which the user puts the files exactly as downloaded:
 *
 * - docmath: HF `yale-nlp/DocMath-Eval` testmini files of the four subsets, e.g.
 *   `data/complong_testmini-00000-of-00001.parquet` (or `.json`/`.jsonl`; hyphen spelling too).
 * - frames: HF `Tongyi-Zhiwen/frames` (`Prompt`, `Answer`, `wiki_items`) as parquet or jsonl.
 * - 2wikimqa / hotpotqa / musique: HF `THUDM/LongBench` parquet config folders
 *   (`2wikimqa/test-*.parquet`) or the `data.zip` files (`data/2wikimqa.jsonl`); never the
 *   LongBench-E `*_e` files (B2).
 * - longbench-v2: HF `THUDM/LongBench-v2` `data.json` (or parquet/jsonl exports).
 *
 * A missing folder, missing file or malformed record is a DataError naming the task and file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../core/errors.ts';
import { mcQuestionBlock } from '../prompts.ts';
import { pyFloatStr } from '../py-float.ts';
import type { EvalQuestion } from '../question.ts';
import type { PaperTask } from '../tasks.ts';
import { findFiles, readRows, RowReader, type RawRow } from './rows.ts';

const DOCMATH_SUBSETS = ['complong', 'compshort', 'simplong', 'simpshort'] as const;

function missing(task: string, where: string, expected: string): DataError {
  return new DataError(
    `${task}: no benchmark file found under ${where} (expected ${expected}; see docs/cli/eval.md for where to download it)`,
    { file: where },
  );
}

async function rowsOf(task: string, files: readonly string[]): Promise<RawRow[]> {
  const out: RawRow[] = [];
  for (const f of files) out.push(...(await readRows(task, f)));
  return out;
}

async function loadDocmath(dataDir: string): Promise<EvalQuestion[]> {
  const dir = join(dataDir, 'docmath');
  const out: EvalQuestion[] = [];
  for (const sub of DOCMATH_SUBSETS) {
    // `complong_testmini-00000-of-00001.parquet`, `complong_testmini.json`, `complong-testmini.jsonl`
    const files = findFiles(
      dir,
      new RegExp(`(^|/)${sub}[-_]testmini([-.][^/]*)?\\.(parquet|jsonl?)$`),
    );
    if (files.length === 0) {
      throw missing(
        'docmath',
        dir,
        `${sub}_testmini-00000-of-00001.parquet from yale-nlp/DocMath-Eval`,
      );
    }
    const rows = await rowsOf('docmath', files);
    rows.forEach((raw, i) => {
      const r = new RowReader('docmath', raw);
      out.push({
        task: 'docmath',
        subTask: sub,
        id: `docmath_${sub}_${i}`,
        kind: 'docmath',
        context: r.stringList('paragraphs').join('\n'),
        question: r.string('question').trim(),
        // The reference compares against str(ground_truth), a Python float.
        answer: pyFloatStr(r.number('ground_truth')),
      });
    });
  }
  return out;
}

async function loadFrames(dataDir: string): Promise<EvalQuestion[]> {
  const dir = join(dataDir, 'frames');
  const files = findFiles(dir, /\.(parquet|jsonl?)$/);
  if (files.length === 0) {
    const tsv = findFiles(dir, /\.tsv$/);
    if (tsv.length > 0) {
      throw new DataError(
        `frames: ${tsv[0]} looks like google/frames-benchmark, which carries no article text; download Tongyi-Zhiwen/frames (with wiki_items) instead`,
        { file: tsv[0] },
      );
    }
    throw missing('frames', dir, 'test.jsonl or data/test-*.parquet from Tongyi-Zhiwen/frames');
  }
  const rows = await rowsOf('frames', files);
  return rows.map((raw, i) => {
    const r = new RowReader('frames', raw);
    const items = r.objectList('wiki_items').map((item, j) => {
      const { title, text } = item;
      if (typeof title !== 'string' || typeof text !== 'string') {
        throw r.error(`wiki_items[${j}]`, 'must have string "title" and "text"', item);
      }
      return `${title}\n${text}`;
    });
    return {
      task: 'frames',
      subTask: 'frames',
      id: `frames_${i}`,
      kind: 'qa',
      context: items.join('\n'),
      question: r.string('Prompt').trim(),
      answer: r.string('Answer'),
    };
  });
}

async function loadLongBench(dataDir: string, task: PaperTask): Promise<EvalQuestion[]> {
  const dirs = [join(dataDir, task), join(dataDir, 'longbench')];
  let files: string[] = [];
  for (const dir of dirs) {
    // data.zip layout: `<task>.jsonl`; HF parquet layout: `<task>/test-00000-of-00001.parquet`.
    files = findFiles(dir, new RegExp(`(^|/)${task}\\.jsonl$`));
    if (files.length === 0)
      files = findFiles(dir, new RegExp(`(^|/)${task}/[^/]*\\.(parquet|jsonl)$`));
    if (files.length === 0 && dir === dirs[0]) files = findFiles(dir, /^[^/]*\.(parquet|jsonl)$/);
    if (files.length > 0) break;
  }
  if (files.length === 0) {
    throw missing(
      task,
      dirs.join(' or '),
      `${task}/test-*.parquet or data/${task}.jsonl from THUDM/LongBench`,
    );
  }
  const rows = await rowsOf(task, files);
  return rows.map((raw, i) => {
    const r = new RowReader(task, raw);
    const answers = r.stringList('answers');
    if (answers.length === 0) throw r.error('answers', 'must hold at least one answer', answers);
    return {
      task,
      subTask: task,
      id: `longbench_${task}_${i}`,
      kind: 'qa',
      context: r.string('context'),
      question: r.string('input').trim(),
      answer: answers[0],
    };
  });
}

async function loadLongBenchV2(dataDir: string): Promise<EvalQuestion[]> {
  const dir = join(dataDir, 'longbench-v2');
  let files = findFiles(dir, /(^|\/)data\.json$/);
  if (files.length === 0) files = findFiles(dir, /\.(parquet|jsonl)$/);
  if (files.length === 0) throw missing('longbench-v2', dir, 'data.json from THUDM/LongBench-v2');
  const rows = await rowsOf('longbench-v2', files);
  return rows.map((raw) => {
    const r = new RowReader('longbench-v2', raw);
    const answer = r.string('answer');
    if (!['A', 'B', 'C', 'D'].includes(answer)) {
      throw r.error('answer', 'must be one of the letters A, B, C, D', answer);
    }
    return {
      task: 'longbench-v2',
      subTask: r.string('domain'),
      id: r.id('_id'),
      kind: 'mc',
      context: r.string('context'),
      question: mcQuestionBlock(r.string('question'), {
        A: r.string('choice_A'),
        B: r.string('choice_B'),
        C: r.string('choice_C'),
        D: r.string('choice_D'),
      }),
      answer,
    };
  });
}

/**
 * Load one paper benchmark from the data folder.
 * @throws DataError naming the task and file when files are missing or malformed
 */
export async function loadPaperTask(dataDir: string, task: PaperTask): Promise<EvalQuestion[]> {
  if (!existsSync(dataDir)) {
    throw new DataError(`${task}: data folder ${dataDir} does not exist`, { file: dataDir });
  }
  let questions: EvalQuestion[];
  switch (task) {
    case 'docmath':
      questions = await loadDocmath(dataDir);
      break;
    case 'frames':
      questions = await loadFrames(dataDir);
      break;
    case 'longbench-v2':
      questions = await loadLongBenchV2(dataDir);
      break;
    default:
      questions = await loadLongBench(dataDir, task);
  }
  const ids = new Set<string>();
  for (const q of questions) {
    if (ids.has(q.id))
      throw new DataError(`${task}: duplicate question id ${q.id}`, { field: '_id' });
    ids.add(q.id);
  }
  if (questions.length === 0) {
    throw new DataError(`${task}: the benchmark files under ${dataDir} hold no records`, {
      file: dataDir,
    });
  }
  return questions;
}
