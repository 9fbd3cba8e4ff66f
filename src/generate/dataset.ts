/**
 * The final dataset: kept questions as rows a verl or TRL user loads directly for RLVR training.
 *
 * Layout (one row per kept question, in slot order):
 * - `data_source`: the reference task name (`docmath_qa`, `doc_general_qa`, `doc_mc`), which is
 *   what SPELL's verl reward dispatch keys on;
 * - `prompt`: chat messages, one user turn holding the responder prompt (all cluster documents,
 *   then the question and the answer-format instruction);
 * - `ability`: "long_context_qa";
 * - `reward_model`: { style: "rule", ground_truth: reference answer };
 * - `ground_truth`, `task`: flat copies for TRL reward functions (extra columns become kwargs);
 * - `extra_info`: index, split, slot, cluster id, source, question, pass rate, group size,
 *   questioner and distractor document indices, history use.
 * JSONL or parquet (nested LIST/STRUCT columns, readable by pandas/pyarrow/datasets).
 */
import { extname } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { writeFileAtomic } from '../core/atomic.ts';
import { ConfigurationError } from '../core/errors.ts';
import { REFERENCE_TASK_NAME, type Task } from '../spell/task.ts';
import type { QuestionRecord } from './record.ts';

export interface DatasetRow {
  readonly data_source: string;
  readonly prompt: readonly { readonly role: 'user'; readonly content: string }[];
  readonly ability: string;
  readonly reward_model: { readonly style: 'rule'; readonly ground_truth: string };
  readonly ground_truth: string;
  readonly task: Task;
  readonly extra_info: {
    readonly index: number;
    readonly split: string;
    readonly slot: number;
    readonly cluster_id: string;
    readonly source: string;
    readonly question: string;
    readonly pass_rate: number;
    readonly group_size: number;
    readonly questioner_documents: readonly number[];
    readonly distractor_documents: readonly number[];
    readonly from_history: boolean;
  };
}

export type DatasetFormat = 'jsonl' | 'parquet';

/**
 * The format an output path asks for.
 * @throws ConfigurationError for an extension other than .jsonl / .parquet.
 */
export function datasetFormat(path: string): DatasetFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl') return 'jsonl';
  if (ext === '.parquet') return 'parquet';
  throw new ConfigurationError(
    `--out ${path}: expected a file ending in .jsonl or .parquet, got '${ext || '(no extension)'}'`,
  );
}

/**
 * Dataset rows of the kept records, in slot order.
 * @param responderPromptOf renders the user turn for a kept record.
 */
export function datasetRows(
  records: readonly QuestionRecord[],
  groupSize: number,
  responderPromptOf: (r: QuestionRecord) => string,
): DatasetRow[] {
  const kept = records.filter((r) => r.status === 'kept').sort((a, b) => a.slot - b.slot);
  return kept.map((r, index) => {
    if (r.referenceAnswer === undefined || r.question === undefined || r.passRate === undefined) {
      throw new Error(`kept record for slot ${r.slot} lacks its question, answer or pass rate`);
    }
    return {
      data_source: REFERENCE_TASK_NAME[r.task],
      prompt: [{ role: 'user', content: responderPromptOf(r) }],
      ability: 'long_context_qa',
      reward_model: { style: 'rule', ground_truth: r.referenceAnswer },
      ground_truth: r.referenceAnswer,
      task: r.task,
      extra_info: {
        index,
        split: 'train',
        slot: r.slot,
        cluster_id: r.clusterId,
        source: r.source,
        question: r.question,
        pass_rate: r.passRate,
        group_size: groupSize,
        questioner_documents: [...r.questionerDocuments],
        distractor_documents: [...r.distractorDocuments],
        from_history: r.fromCache,
      },
    };
  });
}

const str = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: 'REQUIRED',
});

const intList = (name: string): SchemaElement[] => [
  { name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'INT32', repetition_type: 'REQUIRED' },
];

/** The parquet schema of `DatasetRow` (nested columns in the layout pyarrow writes). */
export const DATASET_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 7 },
  str('data_source'),
  { name: 'prompt', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'REQUIRED', num_children: 2 },
  str('role'),
  str('content'),
  str('ability'),
  { name: 'reward_model', repetition_type: 'REQUIRED', num_children: 2 },
  str('style'),
  str('ground_truth'),
  str('ground_truth'),
  str('task'),
  { name: 'extra_info', repetition_type: 'REQUIRED', num_children: 11 },
  { name: 'index', type: 'INT64', repetition_type: 'REQUIRED' },
  str('split'),
  { name: 'slot', type: 'INT64', repetition_type: 'REQUIRED' },
  str('cluster_id'),
  str('source'),
  str('question'),
  { name: 'pass_rate', type: 'DOUBLE', repetition_type: 'REQUIRED' },
  { name: 'group_size', type: 'INT32', repetition_type: 'REQUIRED' },
  ...intList('questioner_documents'),
  ...intList('distractor_documents'),
  { name: 'from_history', type: 'BOOLEAN', repetition_type: 'REQUIRED' },
];

/** Encode rows as parquet bytes. */
export function datasetParquet(rows: readonly DatasetRow[]): Uint8Array {
  const col = <T>(name: string, f: (r: DatasetRow) => T) => ({ name, data: rows.map(f) });
  const buffer = parquetWriteBuffer({
    schema: DATASET_SCHEMA,
    columnData: [
      col('data_source', (r) => r.data_source),
      col('prompt', (r) => r.prompt.map((m) => ({ role: m.role, content: m.content }))),
      col('ability', (r) => r.ability),
      col('reward_model', (r) => ({ ...r.reward_model })),
      col('ground_truth', (r) => r.ground_truth),
      col('task', (r) => r.task),
      col('extra_info', (r) => ({
        ...r.extra_info,
        index: BigInt(r.extra_info.index),
        slot: BigInt(r.extra_info.slot),
        questioner_documents: [...r.extra_info.questioner_documents],
        distractor_documents: [...r.extra_info.distractor_documents],
      })),
    ],
  });
  return new Uint8Array(buffer);
}

/** Write the dataset atomically in the format the path's extension names. */
export function writeDataset(path: string, rows: readonly DatasetRow[]): void {
  if (datasetFormat(path) === 'parquet') {
    writeFileAtomic(path, datasetParquet(rows));
  } else {
    writeFileAtomic(path, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
