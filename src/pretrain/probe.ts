/**
 * Measures how well a model plays the three roles on HELD-OUT prompts (evaluation clusters the
 * model never trained on), by sampling exactly as the local preset does (chat template, no
 * thinking, temperature 1, at most 96 answer tokens):
 * - questioner: the real prompt over k random documents → `parseQuestioner` outcome per task;
 * - responder: the real prompt with all documents and the held-out question → whether the rule
 *   check could extract an answer (format) and whether it scores 1 (accuracy), per task;
 * - verifier: the real prompt on a right or wrong extracted answer → whether the vote parses,
 *   and whether it agrees with the rule check;
 * - quote (quote.ts): which named document openings come back verbatim — the in-cluster lookup
 *   every chained answer needs, measured apart from the roles.
 * In-thread sampling with `Qwen3Model.sample`; deterministic for a seed.
 */
import { Rng } from '../core/rng.ts';
import type { Qwen3Model } from '../model/index.ts';
import {
  joinDocuments,
  MC_LETTERS,
  parseQuestioner,
  parseVote,
  questionerPrompt,
  responderPrompt,
  ruleScore,
} from '../spell/index.ts';
import type { Task } from '../spell/task.ts';
import { renderChat } from '../text/chat.ts';
import type { HfTokenizer } from '../text/tokenizer.ts';
import type { QaCluster } from './clusters.ts';
import { responderQuestionOf, verifierExample } from './examples.ts';
import { QUOTE_MAX_TOKENS, quoteExample } from './quote.ts';

export interface ProbeOptions {
  /** Held-out prompts per task and role. */
  readonly perTask: number;
  readonly seed: number;
  readonly maxTokens: number;
  readonly temperature: number;
  /** Questioner documents (the local preset's k). */
  readonly questionerDocs: number;
  readonly enableThinking: boolean;
}

export const PROBE_DEFAULTS: ProbeOptions = {
  perTask: 6,
  seed: 7,
  maxTokens: 96,
  temperature: 1,
  questionerDocs: 2,
  enableThinking: false,
};

/** Rates per task, each in [0, 1] over `n` prompts. */
export interface TaskProbe {
  readonly n: number;
  readonly questionerOk: number;
  readonly responderFormat: number;
  readonly responderAccuracy: number;
  readonly verifierValid: number;
  readonly verifierAgrees: number;
  /**
   * Verifier replies that restate both judged answers verbatim, as its training target does
   * ("Answer 1 (x) and Answer 2 (y)…"): a direct measure of copying from the context, the skill
   * every role's content depends on.
   */
  readonly verifierCopies: number;
  /**
   * Share of the document openings a quote prompt names that the reply reproduces exactly, on its
   * own line and in order (quote.ts): whether the model finds a document among look-alikes.
   */
  readonly quoteExact: number;
}

export interface ProbeResult {
  readonly byTask: Record<Task, TaskProbe>;
  /** A few generated texts per role, for reading. */
  readonly samples: { readonly role: string; readonly task: Task; readonly text: string }[];
}

function generate(
  model: Qwen3Model,
  tok: HfTokenizer,
  prompt: string,
  seed: number,
  o: ProbeOptions,
  maxTokens: number = o.maxTokens,
): string {
  const ids = renderChat(tok, [{ role: 'user', content: prompt }], {
    addGenerationPrompt: true,
    enableThinking: o.enableThinking,
  }).ids;
  const stops = ['<|im_end|>', '<|endoftext|>']
    .map((t) => tok.tokenToId(t))
    .filter((t): t is number => t !== undefined);
  const res = model.sample({
    prompt: ids,
    numSamples: 1,
    params: {
      maxTokens,
      temperature: o.temperature,
      topP: 1,
      topK: -1,
      stopTokenIds: stops,
      seed,
    },
  });
  return tok.decode(res.sequences[0].tokens, { skipSpecialTokens: true });
}

/** Sample every role on held-out clusters and score the outputs. */
export function probeModel(
  model: Qwen3Model,
  tok: HfTokenizer,
  heldOut: readonly QaCluster[],
  o: ProbeOptions = PROBE_DEFAULTS,
  onItem?: (done: number, total: number) => void,
): ProbeResult {
  const rng = Rng.derive(o.seed, 'pretrain:probe');
  // Its own stream, so adding the quote row left the role rows' draws as they were.
  const quoteRng = Rng.derive(o.seed, 'pretrain:probe:quote');
  const countTokens = (t: string): number => tok.encode(t, { addSpecialTokens: false }).length;
  const tasks: readonly Task[] = ['docmath', 'qa', 'mc'];
  const byTask = {} as Record<Task, TaskProbe>;
  const samples: ProbeResult['samples'] = [];
  const total = tasks.length * o.perTask;
  let done = 0;
  for (const task of tasks) {
    const pool = heldOut.filter((c) => c.task === task).slice(0, o.perTask);
    let qOk = 0;
    let rFormat = 0;
    let rAcc = 0;
    let vValid = 0;
    let vAgree = 0;
    let vCopies = 0;
    let quoted = 0;
    let named = 0;
    for (const c of pool) {
      // Questioner: k random documents, as a first visit of the self-play loop draws them.
      const k = Math.min(o.questionerDocs, c.documents.length);
      const docs = joinDocuments(c.documents, rng.sample([...c.documents.keys()], k));
      const letter = rng.choice(MC_LETTERS);
      const qPrompt =
        task === 'mc'
          ? questionerPrompt({ task, documents: docs, targetLetter: letter })
          : questionerPrompt({ task, documents: docs });
      const qText = generate(model, tok, qPrompt, rng.int(2 ** 31), o);
      const parsed = parseQuestioner(task, qText, {
        countTokens,
        maxAnswerTokens: 40,
        ...(task === 'mc' ? { targetLetter: letter } : {}),
      });
      if (parsed.kind === 'ok') qOk++;
      // Responder: all documents and the held-out question.
      const q = c.questions[0];
      const rText = generate(
        model,
        tok,
        responderPrompt({
          task,
          documents: c.documents.join('\n'),
          question: responderQuestionOf(task, q),
        }),
        rng.int(2 ** 31),
        o,
      );
      const rule = ruleScore(task, rText, q.answer);
      if (rule.pred !== null) rFormat++;
      rAcc += rule.score;
      // Verifier: a right or wrong extracted answer (built like the training examples).
      const vEx = verifierExample(c, rng);
      const vText = generate(model, tok, vEx.prompt ?? '', rng.int(2 ** 31), o);
      const vote = parseVote(vText);
      if (vote !== -1) vValid++;
      if (vote === (vEx.correct === true ? 1 : 0)) vAgree++;
      const [pred, gt] = vEx.judged ?? ['', ''];
      if (vText.includes(`(${pred})`) && vText.includes(`(${gt})`)) vCopies++;
      // Quote: up to three openings of at most 48 tokens each, so twice the role budget (≤ 160).
      const qEx = quoteExample(c, quoteRng, countTokens, QUOTE_MAX_TOKENS);
      const want = qEx.target.split('\n');
      const got = generate(
        model,
        tok,
        qEx.prompt ?? '',
        quoteRng.int(2 ** 31),
        o,
        Math.min(160, 2 * o.maxTokens),
      )
        .trim()
        .split('\n');
      named += want.length;
      quoted += want.filter((line, i) => got[i]?.trim() === line).length;
      if (samples.length < 4 * tasks.length && pool.indexOf(c) === 0) {
        samples.push({ role: 'questioner', task, text: qText });
        samples.push({ role: 'responder', task, text: rText });
        samples.push({ role: 'verifier', task, text: vText });
        samples.push({ role: 'quote', task, text: got.join('\n') });
      }
      onItem?.(++done, total);
    }
    const n = Math.max(1, pool.length);
    byTask[task] = {
      n: pool.length,
      questionerOk: qOk / n,
      responderFormat: rFormat / n,
      responderAccuracy: rAcc / n,
      verifierValid: vValid / n,
      verifierAgrees: vAgree / n,
      verifierCopies: vCopies / n,
      quoteExact: quoted / Math.max(1, named),
    };
  }
  return { byTask, samples };
}

/** The probe as a small markdown table. */
export function formatProbe(r: ProbeResult): string {
  const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
  const lines = [
    '| task | n | questioner parse ok | responder format | responder accuracy | verifier valid | verifier agrees | verifier copies both answers | quotes exact |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [task, t] of Object.entries(r.byTask)) {
    lines.push(
      `| ${task} | ${t.n} | ${pct(t.questionerOk)} | ${pct(t.responderFormat)} | ` +
        `${pct(t.responderAccuracy)} | ${pct(t.verifierValid)} | ${pct(t.verifierAgrees)} | ` +
        `${pct(t.verifierCopies)} | ${pct(t.quoteExact)} |`,
    );
  }
  return lines.join('\n');
}
