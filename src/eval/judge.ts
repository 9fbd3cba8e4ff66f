/**
 * The LLM judge (spell-eval.md §8): one user message built from the question, the parsed
 * prediction (or "None") and the ground truth, sent to any OpenAI-compatible chat endpoint at
 * temperature 0 / top_p 1, and parsed the way the reference does: after `</think>` handling, the
 * verdict is YES iff the reply contains the substring `YES` and not the substring `NO`
 * (case-sensitive, B10 — so "NOTE" vetoes a YES). The robust reading (the last `[[YES]]`/`[[NO]]`)
 * is recorded alongside so disagreements can be counted.
 *
 * Failures are data, not zeros: a call that still fails after the retries, or keeps answering with
 * no content, comes back as `{ status: 'failed' }` with the reason (the reference crashed on those
 * and dropped the sample, B9).
 */
import { describeError } from '../core/errors.ts';
import type { ChatEngine } from '../engine/chat.ts';
import { extractSolution } from '../spell/rules/index.ts';
import { judgePrompt } from './prompts.ts';

/** The reference's verdict labels. */
export type JudgeVerdict = 'YES' | 'NO' | 'INVALID';

/** Verdict of the reference parser: 1 iff "YES" occurs and "NO" does not (substrings). */
export function parseJudgeReference(content: string): { score: number; verdict: JudgeVerdict } {
  const text = extractSolution(content);
  if (text.includes('YES') && !text.includes('NO')) return { score: 1, verdict: 'YES' };
  if (text.includes('NO')) return { score: 0, verdict: 'NO' };
  return { score: 0, verdict: 'INVALID' };
}

/** Robust verdict: the last `[[YES]]` or `[[NO]]` (any case) in the final text; null if none. */
export function parseJudgeStrict(content: string): number | null {
  const text = extractSolution(content);
  const matches = [...text.matchAll(/\[\[\s*(yes|no)\s*\]\]/gi)];
  const last = matches[matches.length - 1];
  if (!last) return null;
  return last[1].toUpperCase() === 'YES' ? 1 : 0;
}

/** What one judge call produced. */
export type JudgeOutcome =
  | {
      readonly status: 'ok';
      readonly score: number;
      readonly verdict: JudgeVerdict;
      /** The robust `[[YES]]`/`[[NO]]` reading (null when neither occurs). */
      readonly strictScore: number | null;
      readonly output: string;
      readonly attempts: number;
    }
  | { readonly status: 'failed'; readonly error: string; readonly attempts: number };

export interface JudgeOptions {
  readonly engine: ChatEngine;
  /** Default 8192, as the reference. */
  readonly maxTokens?: number;
  /** Whole-call attempts (each already retried by the client on 5xx/429/connection errors). Default 3. */
  readonly attempts?: number;
}

/** Ask the judge about one prediction. Never throws for remote failures; returns `failed`. */
export async function runJudge(
  opts: JudgeOptions,
  problem: string,
  prediction: string,
  truth: string,
): Promise<JudgeOutcome> {
  const content = judgePrompt(problem, prediction, truth);
  const attempts = opts.attempts ?? 3;
  let lastError = 'no attempt made';
  for (let a = 1; a <= attempts; a++) {
    try {
      const res = await opts.engine.chat([{ role: 'user', content }], {
        temperature: 0,
        topP: 1,
        maxTokens: opts.maxTokens ?? 8192,
      });
      const output = res.choices[0]?.text ?? '';
      if (output.trim() === '') {
        lastError = `empty reply (finish reason ${res.choices[0]?.finishReason ?? 'none'})`;
        continue;
      }
      const ref = parseJudgeReference(output);
      return { status: 'ok', ...ref, strictScore: parseJudgeStrict(output), output, attempts: a };
    } catch (err) {
      lastError = describeError(err);
    }
  }
  return { status: 'failed', error: lastError, attempts };
}
