/**
 * The per-question decisions of SPELL's question flow (spell-algorithm.md §1.2 A–E), as pure
 * functions shared by self-play training (train/rollout.ts) and `spell generate`
 * (generate/question-flow.ts). Those two only order the engine calls and record what happened;
 * every decision — the prompts, the parse and its label, the grounding verdict, the rule check,
 * the verifier's judgement and rewards, the pass rate, the history push and dynamic sampling — is
 * made here, so the two flows cannot drift apart.
 */
import type { AlgorithmConfig } from './config.ts';
import { shouldPushToHistory, type QuestionerDraw } from './history.ts';
import type { QuestionLabel } from './labels.ts';
import {
  joinDocuments,
  questionerPrompt,
  responderPrompt,
  verifierPrompt,
  type McLetter,
} from './prompts/index.ts';
import { parseQuestioner, type QuestionerParse } from './questioner-parse.ts';
import {
  classifyResponderGroup,
  isBadGround,
  passRate,
  selectVerifierGroup,
  verifierAgreement,
  verifierVoteRewards,
} from './rewards.ts';
import { ruleScore, type RuleScore } from './rules/index.ts';
import type { Task } from './task.ts';
import { judgeAnswer, parseVote, type Vote } from './verifier.ts';

/** A parsed question: what the responder, the grounding filter and the verifier see. */
export type ParsedQuestion = Extract<QuestionerParse, { kind: 'ok' }>;

/** A. The questioner's prompt: the drawn documents (joined) and the text sent. */
export function questionerPromptFor(
  task: Task,
  clusterDocuments: readonly string[],
  draw: Pick<QuestionerDraw, 'documentIndices' | 'examples'>,
  targetLetter: McLetter | undefined,
): { readonly documents: string; readonly text: string } {
  const documents = joinDocuments(clusterDocuments, draw.documentIndices);
  const text =
    task === 'mc'
      ? questionerPrompt({
          task,
          documents,
          examples: draw.examples,
          targetLetter: targetLetter ?? 'A',
        })
      : questionerPrompt({ task, documents, examples: draw.examples });
  return { documents, text };
}

/**
 * B. Parse the questioner's reply under the algorithm's options. `countTokens` checks free-form
 * answers against `qaMaxAnswerTokens`; without it (a caller that counts asynchronously, then calls
 * `qaAnswerTooLong`) the length is not checked here.
 */
export function parseQuestion(
  task: Task,
  reply: string,
  algo: Pick<AlgorithmConfig, 'qaMaxAnswerTokens' | 'qaAnswerInDocuments' | 'mcWrongLetter'>,
  context: {
    readonly documents: string;
    readonly targetLetter?: McLetter;
    readonly countTokens?: (text: string) => number;
  },
): QuestionerParse {
  return parseQuestioner(task, reply, {
    countTokens: context.countTokens ?? (() => 0),
    maxAnswerTokens:
      context.countTokens !== undefined ? algo.qaMaxAnswerTokens : Number.MAX_SAFE_INTEGER,
    ...(context.targetLetter !== undefined ? { targetLetter: context.targetLetter } : {}),
    ...(algo.qaAnswerInDocuments ? { documents: context.documents } : {}),
    wrongLetter: algo.mcWrongLetter,
  });
}

/** The label of a questioner sample after its parse (`good` when it parsed). */
export function parseLabel(parse: QuestionerParse): QuestionLabel {
  switch (parse.kind) {
    case 'ok':
      return 'good';
    case 'format_error':
      return 'bad_format';
    case 'invalid_answer':
      return 'invalid_answer';
    case 'unfinished_think':
      return 'unfinished_think';
  }
}

/** A free-form reference answer longer than `qaMaxAnswerTokens` (counted by the caller). */
export function qaAnswerTooLong(
  task: Task,
  answerTokens: number,
  algo: Pick<AlgorithmConfig, 'qaMaxAnswerTokens'>,
): boolean {
  return task === 'qa' && answerTokens > algo.qaMaxAnswerTokens;
}

/** B'. The grounding filter's verdict on the answer given without documents. */
export function groundingVerdict(
  task: Task,
  noDocumentAnswer: string,
  question: ParsedQuestion,
  algo: Pick<AlgorithmConfig, 'qaMetric' | 'groundingThreshold'>,
): { readonly score: number; readonly badGround: boolean } {
  const score = ruleScore(task, noDocumentAnswer, question.referenceAnswer, {
    qaMetric: algo.qaMetric,
  }).score;
  return { score, badGround: isBadGround(score, algo.groundingThreshold) };
}

/** C. The responder's prompt: every document of the cluster, in its original order. */
export function responderPromptFor(
  task: Task,
  clusterDocuments: readonly string[],
  responderQuestion: string,
): string {
  return responderPrompt({
    task,
    documents: clusterDocuments.join('\n'),
    question: responderQuestion,
  });
}

/**
 * D. The rule check of one responder answer against the reference. Under `truncatedAnswers:
 * zero` an answer cut off at the generation cap scores 0 with no prediction, so no verifier judges
 * it either; under `multipleAnswers: zero` so does an answer that states more than one.
 */
export function checkAnswer(
  task: Task,
  answer: string,
  question: ParsedQuestion,
  algo: Pick<AlgorithmConfig, 'qaMetric' | 'truncatedAnswers' | 'multipleAnswers'>,
  truncated: boolean,
): RuleScore {
  return checkAgainst(task, answer, question.referenceAnswer, algo, truncated);
}

/** The rule check against a plain reference answer (static RLVR's labeled questions). */
export function checkAgainst(
  task: Task,
  answer: string,
  reference: string,
  algo: Pick<AlgorithmConfig, 'qaMetric' | 'truncatedAnswers' | 'multipleAnswers'>,
  truncated: boolean,
): RuleScore {
  const rule = ruleScore(task, answer, reference, { qaMetric: algo.qaMetric });
  if (truncated && algo.truncatedAnswers === 'zero') return { ...rule, score: 0, pred: null };
  if (algo.multipleAnswers === 'zero' && answerStatements(answer) > 1) {
    return { ...rule, score: 0, pred: null };
  }
  return rule;
}

/**
 * How many final answers a reply states: the more of its "answer is" phrases (any case: the
 * extractors' markers all end in it) and its \boxed{} values ("the answer is \boxed{x}" is one).
 */
export function answerStatements(answer: string): number {
  return Math.max(
    answer.match(/answer is/giu)?.length ?? 0,
    answer.match(/\\boxed\{/gu)?.length ?? 0,
  );
}

/**
 * D'. The verifier's prompt for a checked answer, or undefined when the answer cannot be judged
 * (no prediction or no reference was extracted).
 */
export function verifierPromptFor(
  question: ParsedQuestion,
  rule: Pick<RuleScore, 'pred' | 'gt'>,
): string | undefined {
  if (rule.pred === null || rule.gt === null) return undefined;
  return verifierPrompt({
    problem: question.responderQuestion,
    prediction: rule.pred,
    reference: rule.gt,
  });
}

/** The verifier's judgement of one answer from its V replies. */
export interface Judgement {
  readonly votes: readonly Vote[];
  readonly majority: Vote;
  /** The responder's reward from its rule score and the majority (`rewardCombine`). */
  readonly reward: number;
  /** One self-consistency reward per vote. */
  readonly voteRewards: readonly number[];
  /** Share of valid votes agreeing with the majority; undefined without a majority. */
  readonly agreement: number | undefined;
  /** The group passes the agreement band (and, for maj_cons, agrees with the rule check). */
  readonly selected: boolean;
}

/** D'. Judge one answer: majority, responder reward, vote rewards and group selection. */
export function judgeReplies(
  ruleScoreOfAnswer: number,
  replies: readonly string[],
  algo: Pick<AlgorithmConfig, 'tieRule' | 'invalidVotes' | 'rewardCombine' | 'verifier'>,
): Judgement {
  const votes = replies.map(parseVote);
  const { majority, reward } = judgeAnswer(ruleScoreOfAnswer, votes, algo);
  return {
    votes,
    majority,
    reward,
    voteRewards: verifierVoteRewards(votes, majority, algo.invalidVotes),
    agreement: verifierAgreement(votes, majority),
    selected: selectVerifierGroup(votes, majority, ruleScoreOfAnswer, algo.verifier),
  };
}

/** E. What a question's responder rewards decide: pass rate, history push, dynamic sampling. */
export interface Settlement {
  readonly passRate: number;
  /** The question counts as solved and enters the history memory. */
  readonly pushToHistory: boolean;
  /** Every answer scored alike: no signal, dropped by dynamic sampling. */
  readonly zeroVariance: boolean;
}

export function settleQuestion(
  rewards_G: readonly number[],
  algo: Pick<AlgorithmConfig, 'historyPush' | 'historyPushLower' | 'historyPushUpper'>,
): Settlement {
  const p = passRate(rewards_G);
  return {
    passRate: p,
    pushToHistory: shouldPushToHistory(p, algo),
    zeroVariance: classifyResponderGroup(rewards_G) === 'zero_variance',
  };
}
