/**
 * One question slot, end to end over chat endpoints (spell-algorithm.md §1.2 A–E for a single
 * cluster): questioner (documents from the history memory's union plus k new ones, earlier
 * solved questions as examples) → parse → near-duplicate check → grounding filter (answered
 * without documents → rejected) → G responders over all documents → rule checks + V verifier
 * votes per checkable answer → pass rate → history push → keep decision.
 *
 * Every decision comes from the pure functions of src/spell/; this file only orders the calls and
 * records what happened. An endpoint failure (after the client's retries) ends the slot with an
 * `error` record, which a resumed run re-runs; any other exception is a bug and propagates.
 */
import type { Cluster } from '../data/cluster.ts';
import { RemoteEngineError, describeError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { ChatChoice, ChatEngine } from '../engine/chat.ts';
import type { AlgorithmConfig, HistoryPushConfig } from '../spell/config.ts';
import { shouldPushToHistory, type HistoryMemory } from '../spell/history.ts';
import { drawTargetLetter, groundingPrompt } from '../spell/prompts/index.ts';
import {
  checkAnswer,
  groundingVerdict,
  judgeReplies,
  parseQuestion,
  qaAnswerTooLong,
  questionerPromptFor,
  responderPromptFor as responderPromptOf,
  settleQuestion,
  verifierPromptFor,
} from '../spell/question-flow.ts';
import type { Task } from '../spell/task.ts';
import { keeps, type KeepPolicy } from './keep-policy.ts';
import type { NearDuplicateIndex } from './near-duplicate.ts';
import {
  emptyUsage,
  type QuestionRecord,
  type RejectReason,
  type ResponseRecord,
  type Role,
  type RoleUsage,
} from './record.ts';
import type { TokenCounter } from './token-counter.ts';

/** Sizes and sampling settings of a run. */
export interface FlowSettings {
  /** Responder answers per question (G). */
  readonly groupSize: number;
  /** Verifier votes per checkable answer (V); 0 turns the verifier off (rule checks only). */
  readonly votes: number;
  /** New documents per questioner draw (k). */
  readonly docsPerQuestion: number;
  /** Prompts longer than this (tokens, chat template applied) are not sent. */
  readonly maxPromptTokens: number;
  /** Cap on generated tokens per reply, every role. */
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  /** The algorithm's options, built from spell/config.ts's defaults like the train config's. */
  readonly algorithm: AlgorithmConfig;
}

export interface FlowContext {
  /** Questioner, grounding filter and responders. */
  readonly engine: ChatEngine;
  /** Verifier votes (the same engine unless a judge endpoint was given). */
  readonly judge: ChatEngine;
  readonly counter: TokenCounter;
  readonly memory: HistoryMemory;
  readonly duplicates: NearDuplicateIndex;
  readonly keep: KeepPolicy;
  readonly settings: FlowSettings;
}

/** The key of a cluster in the near-duplicate index. */
export function clusterKey(task: Task, clusterId: string): string {
  return `${task}\u0000${clusterId}`;
}

/** The responder prompt of a question on a cluster (all documents, original order). */
export function responderPromptFor(
  task: Task,
  cluster: Cluster,
  responderQuestion: string,
): string {
  return responderPromptOf(task, cluster.documents, responderQuestion);
}

class SlotRun {
  readonly usage: Record<Role, RoleUsage> = emptyUsage();

  constructor(
    private readonly ctx: FlowContext,
    private readonly rng: Rng,
  ) {}

  /** One chat call of a role: one user message, n replies; usage is added to the role's tally. */
  async chat(role: Role, text: string, n: number): Promise<string[]> {
    return (await this.choices(role, text, n)).map((c) => c.text);
  }

  /** Like chat, with each reply's finish reason. */
  async choices(role: Role, text: string, n: number): Promise<ChatChoice[]> {
    const s = this.ctx.settings;
    const engine = role === 'verifier' ? this.ctx.judge : this.ctx.engine;
    const u = this.usage[role];
    u.calls++;
    const res = await engine.chat([{ role: 'user', content: text }], {
      n,
      temperature: s.temperature,
      topP: s.topP,
      maxTokens: s.maxTokens,
      seed: this.rng.int(0x7fffffff),
    });
    if (res.usage) {
      u.promptTokens += res.usage.promptTokens;
      u.completionTokens += res.usage.completionTokens;
    } else {
      u.unreported++;
    }
    return res.choices;
  }
}

/**
 * Run one slot to its record. Mutates the history memory (push when solved) and the
 * near-duplicate index (register a parsed, non-duplicate question).
 */
export async function runQuestion(
  ctx: FlowContext,
  slot: number,
  task: Task,
  cluster: Cluster,
): Promise<QuestionRecord> {
  const started = Date.now();
  const s = ctx.settings;
  const rng = Rng.derive(s.seed, `generate:slot:${slot}`);
  const run = new SlotRun(ctx, rng);
  const draw = ctx.memory.planDraw(
    task,
    cluster.id,
    cluster.documents.length,
    s.docsPerQuestion,
    rng,
  );
  const targetLetter = task === 'mc' ? drawTargetLetter(rng) : undefined;
  const shown = new Set(draw.documentIndices);
  const base = {
    type: 'question' as const,
    slot,
    task,
    clusterId: cluster.id,
    source: cluster.source,
    clusterDocuments: cluster.documents.length,
    questionerDocuments: draw.documentIndices,
    distractorDocuments: cluster.documents.map((_, i) => i).filter((i) => !shown.has(i)),
    fromCache: draw.fromCache,
    historyExamples: draw.examples.length,
    ...(targetLetter !== undefined ? { targetLetter } : {}),
  };
  let partial: Partial<QuestionRecord> = {};
  const finish = (
    status: QuestionRecord['status'],
    extra: Partial<QuestionRecord> = {},
  ): QuestionRecord => ({
    ...base,
    ...partial,
    ...extra,
    status,
    usage: run.usage,
    elapsedMs: Date.now() - started,
  });
  const reject = (reason: RejectReason, detail?: string): QuestionRecord =>
    finish('rejected', { reason, ...(detail !== undefined ? { detail } : {}) });

  try {
    // A. Questioner.
    const { documents, text: qPrompt } = questionerPromptFor(
      task,
      cluster.documents,
      draw,
      targetLetter,
    );
    const qTokens = await ctx.counter.prompt(qPrompt);
    if (qTokens > s.maxPromptTokens) {
      return reject(
        'overlong_prompt',
        `questioner prompt has ${qTokens} tokens > ${s.maxPromptTokens}`,
      );
    }
    const [output] = await run.chat('questioner', qPrompt, 1);
    partial = { questionerOutput: output };

    // B. Parse. Answer length is checked here (async counter) rather than inside the parser.
    const parsed = parseQuestion(task, output, s.algorithm, {
      documents,
      ...(targetLetter !== undefined ? { targetLetter } : {}),
    });
    if (parsed.kind === 'format_error') return reject('bad_format', parsed.reason);
    if (parsed.kind === 'invalid_answer') return reject('invalid_answer', parsed.reason);
    if (parsed.kind === 'unfinished_think') return reject('unfinished_think');
    partial = {
      ...partial,
      question: parsed.question,
      responderQuestion: parsed.responderQuestion,
      referenceAnswer: parsed.referenceAnswer,
    };
    if (task === 'qa') {
      const answerTokens = await ctx.counter.text(parsed.referenceAnswer);
      if (qaAnswerTooLong(task, answerTokens, s.algorithm)) {
        const limit = s.algorithm.qaMaxAnswerTokens;
        return reject('invalid_answer', `answer has ${answerTokens} tokens, more than ${limit}`);
      }
    }

    // Near-duplicate check within the cluster; check and register are synchronous together.
    const key = clusterKey(task, cluster.id);
    const dup = ctx.duplicates.check(key, parsed.question);
    if (dup !== undefined) {
      return finish('rejected', {
        reason: 'near_duplicate',
        duplicateOf: dup,
        detail: `Jaccard ${dup.similarity.toFixed(2)} with slot ${dup.slot}`,
      });
    }
    ctx.duplicates.add(key, slot, parsed.question);

    // B'. Grounding filter: answered correctly without documents → not grounded.
    const [grounded] = await run.chat(
      'grounding',
      groundingPrompt({ task, question: parsed.responderQuestion }),
      1,
    );
    const verdict = groundingVerdict(task, grounded, parsed, s.algorithm);
    partial = { ...partial, grounding: { answer: grounded, score: verdict.score } };
    if (verdict.badGround) {
      return reject('bad_ground');
    }

    // C. Responders over all documents (distractors included).
    const rPrompt = responderPromptFor(task, cluster, parsed.responderQuestion);
    const rTokens = await ctx.counter.prompt(rPrompt);
    if (rTokens > s.maxPromptTokens) {
      return reject(
        'overlong_prompt',
        `responder prompt has ${rTokens} tokens > ${s.maxPromptTokens}`,
      );
    }
    const answers = await run.choices('responder', rPrompt, s.groupSize);

    // D. Rule checks, then V verifier votes on every answer with an extracted span.
    const responses: ResponseRecord[] = await Promise.all(
      answers.map(async ({ text, finishReason }): Promise<ResponseRecord> => {
        const rule = checkAnswer(task, text, parsed, s.algorithm, finishReason === 'length');
        const vPrompt = verifierPromptFor(parsed, rule);
        if (s.votes === 0 || vPrompt === undefined) {
          return {
            text,
            pred: rule.pred,
            ruleScore: rule.score,
            votes: [],
            majority: null,
            reward: rule.score,
          };
        }
        const replies = await run.chat('verifier', vPrompt, s.votes);
        const { votes, majority, reward } = judgeReplies(rule.score, replies, s.algorithm);
        return { text, pred: rule.pred, ruleScore: rule.score, votes, majority, reward };
      }),
    );

    // E. Pass rate, history memory, keep decision.
    const settled = settleQuestion(
      responses.map((r) => r.reward),
      s.algorithm,
    );
    const p = settled.passRate;
    partial = { ...partial, responses, passRate: p };
    if (settled.pushToHistory) {
      ctx.memory.push(task, cluster.id, {
        evidence: draw.documentIndices,
        question: parsed.responderQuestion,
        answer: parsed.referenceAnswer,
      });
    }
    if (keeps(ctx.keep, p)) return finish('kept');
    return reject(p === 0 ? 'none_correct' : p === 1 ? 'all_correct' : 'pass_rate_outside_keep');
  } catch (err) {
    if (!(err instanceof RemoteEngineError)) throw err;
    return finish('error', { detail: describeError(err) });
  }
}

/** Replay a finished record into the memory and the duplicate index (used when resuming). */
export function replayRecord(
  record: QuestionRecord,
  memory: HistoryMemory,
  duplicates: NearDuplicateIndex,
  history: HistoryPushConfig,
): void {
  if (record.status === 'error') return;
  // Registered live right after the duplicate check passed: parsed, not a duplicate, and not
  // dropped by the QA answer-length check that precedes it.
  const registered =
    record.question !== undefined &&
    record.reason !== 'near_duplicate' &&
    record.reason !== 'invalid_answer';
  if (registered) {
    duplicates.add(clusterKey(record.task, record.clusterId), record.slot, record.question);
  }
  if (
    record.passRate !== undefined &&
    record.responderQuestion !== undefined &&
    record.referenceAnswer !== undefined &&
    shouldPushToHistory(record.passRate, history)
  ) {
    memory.push(record.task, record.clusterId, {
      evidence: record.questionerDocuments,
      question: record.responderQuestion,
      answer: record.referenceAnswer,
    });
  }
}
