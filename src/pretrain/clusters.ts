/**
 * Where the warm-start model's supervised material comes from: clusters of the synthetic
 * generator WITH their programmatic questions, drawn from the generator's training streams only.
 *
 * `trainingClusters` replays the exact `train:<task>` streams that produced `assets/corpus/
 * train.jsonl` (the first clusters per task are byte-identical to it; a test checks this) and may
 * continue them for more variety. Any cluster sharing a document with the held-out evaluation set
 * is skipped, so no evaluation text is ever trained on. `heldOutClusters` turns the evaluation
 * questions (the `eval:<task>` streams, identical to `eval.jsonl`) into the same shape, for
 * measuring only. Pure and deterministic; no I/O.
 *
 * It deliberately does not read files: the generator is the source of truth, and the corpus files
 * are its output.
 */
import { Rng } from '../core/rng.ts';
import { synthEval, synthTrain, type SynthOptions } from '../data/synth/corpus.ts';
import { encyclopediaCluster } from '../data/synth/encyclopedia.ts';
import { financeCluster } from '../data/synth/finance.ts';
import { LETTERS, mixedCluster } from '../data/synth/mixed.ts';
import { finishCluster, type DraftCluster, type SynthQuestion } from '../data/synth/text.ts';
import type { Task } from '../spell/task.ts';

/** A cluster with the generator's questions about it (evidence = document indices). */
export interface QaCluster {
  readonly id: string;
  readonly task: Task;
  readonly documents: readonly string[];
  readonly questions: readonly SynthQuestion[];
}

const TASKS: readonly Task[] = ['docmath', 'qa', 'mc'];

function draft(task: Task, rng: Rng): DraftCluster {
  // Same call order as the corpus generator: the mc letter is drawn before the cluster.
  const letter = rng.choice(LETTERS);
  if (task === 'docmath') return financeCluster(rng);
  if (task === 'qa') return encyclopediaCluster(rng);
  return mixedCluster(rng, letter);
}

/** Every document of the held-out evaluation set generated with `options`. */
export function heldOutDocuments(options: SynthOptions): Set<string> {
  const seen = new Set(synthTrain(options).flatMap((c) => c.documents));
  return new Set(synthEval(options, seen).flatMap((r) => r.documents));
}

/**
 * Training clusters with questions: `perTask` clusters of each task from the training streams
 * of `options.seed`, in task then stream order; clusters touching an evaluation document are
 * skipped (and do not count).
 * @throws RangeError for a non-positive or non-integer `perTask`.
 */
export function trainingClusters(options: SynthOptions, perTask: number): QaCluster[] {
  if (!Number.isSafeInteger(perTask) || perTask <= 0) {
    throw new RangeError(`clusters per task must be a positive integer, got ${perTask}`);
  }
  const forbidden = heldOutDocuments(options);
  const out: QaCluster[] = [];
  for (const task of TASKS) {
    const rng = Rng.derive(options.seed, `train:${task}`);
    let kept = 0;
    for (let i = 0; kept < perTask; i++) {
      const c = finishCluster(draft(task, rng), rng);
      if (c.documents.some((d) => forbidden.has(d)) || c.questions.length === 0) continue;
      out.push({
        id: `${task}-${String(i).padStart(5, '0')}`,
        task,
        documents: c.documents,
        questions: c.questions,
      });
      kept++;
    }
  }
  return out;
}

/** The held-out evaluation questions as one-question clusters (measurement only, never training). */
export function heldOutClusters(options: SynthOptions): QaCluster[] {
  const seen = new Set(synthTrain(options).flatMap((c) => c.documents));
  return synthEval(options, seen).map((r) => ({
    id: r.id,
    task: r.task,
    documents: r.documents,
    questions: [
      {
        kind: r.kind,
        question: r.question,
        answer: r.answer,
        evidence: r.evidence,
        ...(r.options === undefined
          ? {}
          : { options: [r.options.A, r.options.B, r.options.C, r.options.D] as const }),
        ...(r.derivation === undefined ? {} : { derivation: r.derivation }),
      },
    ],
  }));
}
