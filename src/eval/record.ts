/**
 * One line of the results file (`samples.jsonl`): everything about one (task, question, sample)
 * — the prompt's hash and token counts, the raw response, the parsed answer, every rule metric in
 * both scoring modes, and the judge's raw reply and verdicts — so a run can be re-summarised in
 * either mode without new requests (spell-eval.md §15, recommendation 2).
 */
import { z } from 'zod';

const judgeSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ok'),
    score: z.number(),
    verdict: z.enum(['YES', 'NO', 'INVALID']),
    strictScore: z.number().nullable(),
    output: z.string(),
    attempts: z.number().int(),
    model: z.string(),
  }),
  z.object({
    status: z.literal('failed'),
    error: z.string(),
    attempts: z.number().int(),
    model: z.string(),
  }),
]);

export const sampleRecordSchema = z.object({
  task: z.string().min(1),
  subTask: z.string(),
  id: z.string().min(1),
  sample: z.number().int().nonnegative(),
  seed: z.number().int().nullable(),
  answer: z.string(),
  promptSha256: z.string(),
  promptTokens: z.number().int(),
  promptTokensOriginal: z.number().int(),
  truncated: z.boolean(),
  response: z.string(),
  finishReason: z.string(),
  completionTokens: z.number().int().nullable(),
  region: z.string(),
  pred: z.string().nullable(),
  ruleAsCoded: z.number(),
  ruleAsDescribed: z.number(),
  qa: z
    .object({ em: z.number(), f1: z.number(), cemStrict: z.number(), cemLoose: z.number() })
    .optional(),
  /** Whether this sample is one the judge must see (non-MC, rule score below 1). */
  needsJudge: z.boolean(),
  /** Null until judged (no judge configured yet, or not needed). */
  judge: judgeSchema.nullable(),
  /** The judge's question text (reference extraction from the final prompt). */
  judgeQuestion: z.string(),
});

export type SampleRecord = z.infer<typeof sampleRecordSchema>;
export type JudgeRecord = NonNullable<SampleRecord['judge']>;

/** The resume key of a sample: (task, question id, sample index) — not a global index (B21). */
export function sampleKey(task: string, id: string, sample: number): string {
  return `${task}\u0000${id}\u0000${sample}`;
}
