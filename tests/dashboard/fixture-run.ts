/**
 * Run directories with known samples for the dashboard tests, written the way `spell train`
 * writes them (metrics.jsonl appended line by line, step files renamed into place, config.yaml
 * naming the corpus), so every filter, search and count in the tests has a literal answer.
 */
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Samples per step: 3 questioners, 2 responder answers and 3 verifier votes on the first. */
export const SAMPLES_PER_STEP = 8;

export function writeCorpus(dir: string): string {
  const path = join(dir, 'corpus.jsonl');
  const clusters = [
    {
      id: 'c-qa',
      source: 'test',
      task: 'qa',
      documents: ['Doc zero about Arle.', 'Doc one (distractor).', 'Doc two about Selby.'],
    },
    { id: 'c-mc', source: 'test', task: 'mc', documents: ['Only document.'] },
    { id: 'c-docmath', source: 'test', task: 'docmath', documents: ['Cash was 5.', 'Debt was 2.'] },
  ];
  writeFileSync(path, `${clusters.map((c) => JSON.stringify(c)).join('\n')}\n`);
  return path;
}

export function stepSamples(step: number): object[] {
  const q0 = `s${step}-q0`;
  return [
    {
      step,
      role: 'questioner',
      uid: q0,
      task: 'qa',
      cluster_id: 'c-qa',
      documents: [0, 2],
      text: step === 3 ? 'Where was the zebra keeper born?' : `Question ${step} about Selby`,
      parse: { kind: 'ok', question: 'Where?', referenceAnswer: 'Selby' },
      label: 'good',
      pass_rate: 0.5,
      reward: 0.8,
      advantage: 1.2,
      trained: true,
    },
    {
      step,
      role: 'questioner',
      uid: `s${step}-q1`,
      task: 'mc',
      cluster_id: 'c-mc',
      documents: [0],
      text: 'An ungrounded question',
      parse: { kind: 'ok', question: 'Which?' },
      label: 'bad_ground',
      pass_rate: null,
      reward: -1,
      advantage: -0.5,
      trained: true,
    },
    {
      step,
      role: 'questioner',
      uid: `s${step}-q2`,
      task: 'docmath',
      cluster_id: 'c-docmath',
      documents: [1],
      text: 'no json here',
      parse: { kind: 'format_error', reason: 'no JSON block' },
      label: 'bad_format',
      pass_rate: null,
      reward: null,
      advantage: null,
      trained: false,
    },
    {
      step,
      role: 'responder',
      uid: q0,
      task: 'qa',
      index: 0,
      text: 'The answer is Selby.',
      pred: 'Selby',
      gt: 'Selby',
      rule_score: 1,
      majority: 1,
      reward: 1,
      advantage: 1,
      trained: true,
    },
    {
      step,
      role: 'responder',
      uid: q0,
      task: 'qa',
      index: 1,
      text: 'The answer is Arle.',
      pred: 'Arle',
      gt: 'Selby',
      rule_score: 0,
      majority: null,
      reward: 0,
      advantage: -1,
      trained: true,
    },
    ...[1, 1, 0].map((vote, k) => ({
      step,
      role: 'verifier',
      uid: `${q0}-r0-v`,
      question_uid: q0,
      responder_index: 0,
      task: 'qa',
      text: `Decision ${k}`,
      vote,
      majority: 1,
      agreement: 0.67,
      selected: true,
      reward: 0.25,
      advantage: 0,
      trained: false,
    })),
  ];
}

export function metricsOf(step: number): object {
  return {
    step,
    'critic/role/questioner/rewards/mean': 0.1 * step,
    'critic/role/responder/rewards/mean': 0.5,
    'responder/task/qa/pass_rate': 0.1 * step,
    'timing_s/step': 2,
  };
}

/** Append one complete step: its rollouts file (renamed in), then its metrics line. */
export function appendStep(root: string, step: number): void {
  const file = join(root, 'rollouts', `step-${String(step).padStart(6, '0')}.jsonl`);
  writeFileSync(
    `${file}.tmp`,
    `${stepSamples(step)
      .map((s) => JSON.stringify(s))
      .join('\n')}\n`,
  );
  renameSync(`${file}.tmp`, file);
  appendFileSync(join(root, 'metrics.jsonl'), `${JSON.stringify(metricsOf(step))}\n`);
}

export function writeRun(root: string, steps: number, corpus: string): string {
  mkdirSync(join(root, 'rollouts'), { recursive: true });
  writeFileSync(join(root, 'config.yaml'), `steps: 20\ndata:\n  paths:\n    - ${corpus}\n`);
  writeFileSync(join(root, 'metrics.jsonl'), '');
  for (let s = 1; s <= steps; s++) appendStep(root, s);
  return root;
}
