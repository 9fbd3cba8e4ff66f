/**
 * Read a held-out evaluation file (`eval.jsonl` of a generated corpus) back as typed records,
 * validated line by line; bad lines are DataErrors naming file, line and field.
 */
import { z } from 'zod';
import { DataError } from '../../core/errors.ts';
import { readBytes } from '../read/file.ts';
import type { EvalRecord } from './corpus.ts';

const letter = z.enum(['A', 'B', 'C', 'D']);
const recordSchema = z
  .object({
    id: z.string().min(1),
    task: z.enum(['docmath', 'qa', 'mc']),
    kind: z.string().min(1),
    documents: z.array(z.string().min(1)).min(1),
    question: z.string().min(1),
    options: z
      .strictObject({ A: z.string(), B: z.string(), C: z.string(), D: z.string() })
      .optional(),
    answer: z.string().min(1),
    evidence: z.array(z.number().int().nonnegative()),
    derivation: z.string().optional(),
  })
  .refine(
    (r) => r.task !== 'mc' || (r.options !== undefined && letter.safeParse(r.answer).success),
    {
      message: 'an mc question needs options A–D and an answer letter A–D',
      path: ['answer'],
    },
  );

/**
 * Read every question of an evaluation file.
 * @throws DataError naming the file, line and field of the first bad line.
 */
export function readEvalSet(file: string): EvalRecord[] {
  const lines = Buffer.from(readBytes(file)).toString('utf8').split('\n');
  const out: EvalRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new DataError(
        `${file}, row ${i + 1}: not valid JSON`,
        { file, row: i + 1 },
        { cause: err },
      );
    }
    const parsed = recordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.join('.');
      throw new DataError(`${file}, row ${i + 1}, field '${field}': ${issue.message}`, {
        file,
        row: i + 1,
        field,
      });
    }
    out.push(parsed.data);
  });
  return out;
}
