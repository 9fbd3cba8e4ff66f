/**
 * Supervised examples that teach a from-scratch model the three SPELL roles a little: plain
 * language modelling of cluster documents, and one (user prompt → answer) pair per role built
 * with the REAL role prompts, so the model learns exactly the format self-play will ask of it.
 *
 * - questioner: the questioner prompt for a cluster's documents (the evidence of a generator
 *   question, topped up to k = 2 documents; optionally with history examples) → one short
 *   reasoning line and a ```json block that `parseQuestioner` accepts;
 * - responder: the responder prompt with ALL the cluster's documents → a short derivation ending
 *   in the rule-checkable answer sentence; a configurable share is deliberately wrong;
 * - grounding: the responder prompt with "Empty" documents → a plausible guess;
 * - verifier: the verifier prompt on an extracted (prediction, reference) pair → an explanation
 *   and a decision that matches `ruleScore`'s equivalence.
 *
 * Everything here works on text and is pure and synchronous: randomness comes only from the
 * injected `Rng`, and token counting (to keep answers inside the rollout's response cap) is
 * injected too. Tokenization into datums lives in encode.ts.
 */
import type { Rng } from '../core/rng.ts';
import type { SynthQuestion } from '../data/synth/text.ts';
import {
  MC_LETTERS,
  formatMcQuestion,
  groundingPrompt,
  joinDocuments,
  questionerPrompt,
  responderPrompt,
  ruleScore,
  verifierPrompt,
  type McLetter,
  type QuestionerExample,
} from '../spell/index.ts';
import type { Task } from '../spell/task.ts';
import { evalPrompt, mcQuestionBlock } from '../eval/prompts.ts';
import type { QaCluster } from './clusters.ts';
import { evidenceChain } from './chain.ts';

/** What an example teaches. */
export type ExampleRole =
  | 'lm'
  | 'questioner'
  | 'responder'
  | 'grounding'
  | 'verifier'
  | 'copy'
  | 'repeat'
  | 'induction'
  | 'quote'
  | 'pointer';

/**
 * Every role, in the order the mixture draws them (roles added later go last, so at weight 0 they
 * leave older streams as they were).
 */
export const EXAMPLE_ROLES: readonly ExampleRole[] = [
  'lm',
  'questioner',
  'responder',
  'grounding',
  'verifier',
  'copy',
  'repeat',
  'induction',
  'quote',
  'pointer',
];

/** One supervised example as text. */
export interface TextExample {
  readonly role: ExampleRole;
  readonly task: Task;
  /** The user message (rendered later with the chat template); absent for `lm`. */
  readonly prompt?: string;
  /** What the model must write (for `lm`: the whole text). Loss falls on these tokens only. */
  readonly target: string;
  /** responder / grounding: whether the target's final answer is right. */
  readonly correct?: boolean;
  /** questioner (mc): the letter the prompt demanded. */
  readonly targetLetter?: McLetter;
  /** responder / grounding / verifier: the reference answer of the question. */
  readonly reference?: string;
  /** verifier: the two extracted answers the prompt shows (prediction, reference), verbatim. */
  readonly judged?: readonly [string, string];
}

/** Knobs of the builders. */
export interface ExampleOptions {
  /** Token count of a text (no special tokens); used to keep answers under `maxTargetTokens`. */
  readonly countTokens: (text: string) => number;
  /** Answer tokens allowed, end-of-turn token excluded (the local preset samples at most 96). */
  readonly maxTargetTokens: number;
  /** Documents the questioner sees at least (the local preset's k). */
  readonly questionerDocs: number;
  /** Share of responder targets that are deliberately wrong, in [0, 1]. */
  readonly wrongRate: number;
  /**
   * Share of responder examples posed in the evaluation's prompt wording (`spell eval`'s templates,
   * documents joined by blank lines) instead of the self-play responder prompt, in [0, 1]; the
   * answer is the same. Content still comes from training clusters only. Absent or 0: never (and
   * no random draw, so older example streams are unchanged).
   */
  readonly evalPromptShare?: number;
  /**
   * How qa and mc derivations are written: `subjects` names the evidence documents' subjects
   * ("Following X and Y, we reach Z."); `chain` quotes the evidence in hop order (chain.ts), so
   * each hop is a copy from the context. Absent: `subjects` (older example streams unchanged).
   */
  readonly reasoning?: Reasoning;
}

/** The derivation styles of `ExampleOptions.reasoning`. */
export type Reasoning = 'subjects' | 'chain';

/** Every reasoning style, for flag parsing. */
export const REASONING_STYLES: readonly Reasoning[] = ['subjects', 'chain'];

// ---------------------------------------------------------------------------------------------
// Small helpers

/** The answer sentence each task's rule check parses. */
export function answerSentence(task: Task, answer: string): string {
  return task === 'docmath'
    ? `Therefore, the answer is (${answer}).`
    : `The correct answer is (${answer}).`;
}

/** The subject of a document: the words before " is " / " had " in its first sentence. */
export function documentSubject(doc: string): string {
  const first = doc.split(/[.\n]/)[0];
  const m = /^(.{1,40}?) (?:is|was|had|paid|employed|sells) /.exec(first);
  if (m) return m[1].replace(/^Table \d+: /, '');
  const table = /^Table \d+: ([^(]{1,40})/.exec(first);
  if (table) return table[1].trim();
  return first.split(' ').slice(0, 3).join(' ');
}

function subjectsOf(cluster: QaCluster, evidence: readonly number[]): string {
  const names = [...new Set(evidence.map((i) => documentSubject(cluster.documents[i])))];
  return names.length <= 1 ? (names[0] ?? 'the text') : names.join(' and ');
}

/** The options of an mc question keyed by letter (the generator stores them in A–D order). */
function optionsOf(q: SynthQuestion): Record<McLetter, string> {
  if (q.options === undefined) throw new Error(`mc question "${q.question}" has no options`);
  const [A, B, C, D] = q.options;
  return { A, B, C, D };
}

/** What the responder sees for a generator question (mc: the block with its choices). */
export function responderQuestionOf(task: Task, q: SynthQuestion): string {
  return task === 'mc' ? formatMcQuestion(q.question, optionsOf(q)) : q.question;
}

/** Questions whose answers a parser accepts (docmath: a non-zero number). */
function usableQuestions(cluster: QaCluster): readonly SynthQuestion[] {
  if (cluster.task !== 'docmath') return cluster.questions;
  return cluster.questions.filter(
    (q) => Number.isFinite(Number(q.answer)) && Number(q.answer) !== 0,
  );
}

function pickQuestion(cluster: QaCluster, rng: Rng): SynthQuestion {
  const qs = usableQuestions(cluster);
  if (qs.length === 0) throw new Error(`cluster ${cluster.id} has no usable question`);
  return rng.choice(qs);
}

/** Use `full` when it fits the token budget, else `short` (which must always fit). */
function fit(opts: ExampleOptions, full: string, short: string): string {
  return opts.countTokens(full) <= opts.maxTargetTokens ? full : short;
}

/** A wrong but plausible docmath number: the right one off by 4–40%, same precision. */
function perturbNumber(answer: string, rng: Rng): string {
  const x = Number(answer);
  const decimals = answer.includes('.') ? answer.split('.')[1].length : 0;
  const factor = 1 + (rng.next() < 0.5 ? -1 : 1) * (0.04 + 0.36 * rng.next());
  let y = Number((x * factor).toFixed(decimals));
  if (y === x) y = x + (x >= 0 ? 1 : -1);
  return y.toFixed(decimals);
}

/** Another answer of the same kind of thing, taken from the cluster (qa) or a shifted letter. */
function wrongAnswer(cluster: QaCluster, q: SynthQuestion, rng: Rng): string {
  if (cluster.task === 'docmath') return perturbNumber(q.answer, rng);
  if (cluster.task === 'mc') {
    return rng.choice(MC_LETTERS.filter((l) => l !== q.answer));
  }
  const others = cluster.questions.map((o) => o.answer).filter((a) => a !== q.answer);
  if (others.length > 0) return rng.choice(others);
  return documentSubject(rng.choice(cluster.documents));
}

// ---------------------------------------------------------------------------------------------
// (a) language modelling

/** A run of 1–3 consecutive documents of the cluster, as plain text. */
export function lmExample(cluster: QaCluster, rng: Rng): TextExample {
  const n = cluster.documents.length;
  const count = Math.min(n, 1 + rng.int(3));
  const start = rng.int(n - count + 1);
  return {
    role: 'lm',
    task: cluster.task,
    target: cluster.documents.slice(start, start + count).join('\n'),
  };
}

/**
 * Verbatim copying of 1–2 consecutive documents shown in the prompt. Every SPELL role needs to
 * copy from its context (the questioner its required MC letter, the responder an entity, the
 * verifier the two answers it compares); this is the plainest form of that skill, with a loss on
 * every copied token, and short enough to be cheap.
 */
export function copyExample(cluster: QaCluster, rng: Rng): TextExample {
  const n = cluster.documents.length;
  const count = Math.min(n, 1 + rng.int(2));
  const start = rng.int(n - count + 1);
  const text = cluster.documents.slice(start, start + count).join('\n');
  return {
    role: 'copy',
    task: cluster.task,
    prompt: `Copy the text below exactly, word for word.\n\n${text}`,
    target: text,
  };
}

/**
 * Repeating a shuffled run of 16–48 distinct words of the cluster's documents. The order is
 * random, so language-model knowledge cannot predict the next word; only looking back at the
 * prompt can (find the current word there, take the one after it), and distinct words keep that
 * lookup unambiguous. It is the induction lookup every chained answer needs, in the chat format
 * the roles use (induction.ts has the token-level drill that first forms the mechanism).
 */
export function repeatExample(cluster: QaCluster, rng: Rng): TextExample {
  // Plain words only: numbers split into digit tokens that recur everywhere, and a lookup keyed on
  // a recurring token is ambiguous (measured: runs with numbers never left the bag-of-words plateau).
  const words = [...new Set(cluster.documents.join(' ').split(/[\s.,;:()|]+/))].filter((w) =>
    /^[A-Za-z]+$/.test(w),
  );
  const run = rng.sample(words, Math.min(words.length, 16 + rng.int(33))).join(' ');
  return {
    role: 'repeat',
    task: cluster.task,
    prompt: `Repeat the words below exactly, in the same order.\n\n${run}`,
    target: run,
  };
}

// ---------------------------------------------------------------------------------------------
// (b) questioner

/** The question's evidence documents, topped up with random others to at least `k`. */
function questionerDocuments(
  cluster: QaCluster,
  evidence: readonly number[],
  k: number,
  rng: Rng,
): number[] {
  const chosen = new Set(evidence);
  const rest = rng.shuffle(cluster.documents.map((_, i) => i).filter((i) => !chosen.has(i)));
  while (chosen.size < Math.min(k, cluster.documents.length) && rest.length > 0) {
    chosen.add(rest.pop() as number);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** Move the correct option of an mc question to `letter`, keeping the others' order. */
export function placeCorrectOption(q: SynthQuestion, letter: McLetter): Record<McLetter, string> {
  const opts = optionsOf(q);
  const correct = opts[q.answer as McLetter];
  const others = MC_LETTERS.filter((l) => l !== q.answer).map((l) => opts[l]);
  others.splice(MC_LETTERS.indexOf(letter), 0, correct);
  return { A: others[0], B: others[1], C: others[2], D: others[3] };
}

function questionerTarget(
  cluster: QaCluster,
  q: SynthQuestion,
  letter: McLetter | undefined,
  opts: ExampleOptions,
): string {
  const about = subjectsOf(cluster, q.evidence);
  const block = (record: object): string => '```json\n' + JSON.stringify(record) + '\n```';
  if (cluster.task === 'docmath') {
    const json = block({ question: q.question, answer: Number(q.answer) });
    const full = `Derivation: ${q.derivation ?? q.answer} = ${q.answer}.\n${json}`;
    return fit(opts, full, `Derivation from ${about}.\n${json}`);
  }
  const chain = opts.reasoning === 'chain';
  if (cluster.task === 'qa') {
    const json = block({ question: q.question, answer: q.answer });
    const short = fit(opts, `Linking ${about} gives ${q.answer}.\n${json}`, `Two hops.\n${json}`);
    return chain ? fit(opts, `${evidenceChain(cluster, q, q.answer)}\n${json}`, short) : short;
  }
  const l = letter ?? 'A';
  const options = placeCorrectOption(q, l);
  const json = block({ question: q.question, options, answer: l });
  const pick = `option ${l} is right: ${options[l]}.`;
  const short = fit(opts, `From ${about}, ${pick}\n${json}`, json);
  if (!chain) return short;
  const quoted = evidenceChain(cluster, q, options[l]);
  return fit(opts, `${quoted} So ${pick}\n${json}`, short);
}

/**
 * A questioner example: the real prompt for the question's documents (k at least), with 1–3
 * other questions of the cluster as history examples when `withHistory`, and a target that
 * parses to `ok` with the prompt's target letter.
 */
export function questionerExample(
  cluster: QaCluster,
  rng: Rng,
  withHistory: boolean,
  opts: ExampleOptions,
): TextExample {
  const q = pickQuestion(cluster, rng);
  const others = cluster.questions.filter((o) => o.question !== q.question);
  const history =
    withHistory && others.length > 0
      ? rng.sample(others, 1 + rng.int(Math.min(3, others.length)))
      : [];
  const examples: QuestionerExample[] = history.map((h) => ({
    question: responderQuestionOf(cluster.task, h),
    answer: h.answer,
  }));
  const evidence = [...q.evidence, ...history.flatMap((h) => h.evidence)];
  const docs = questionerDocuments(cluster, evidence, opts.questionerDocs, rng);
  const documents = joinDocuments(cluster.documents, docs);
  if (cluster.task === 'mc') {
    const letter = rng.choice(MC_LETTERS);
    return {
      role: 'questioner',
      task: 'mc',
      prompt: questionerPrompt({ task: 'mc', documents, examples, targetLetter: letter }),
      target: questionerTarget(cluster, q, letter, opts),
      targetLetter: letter,
    };
  }
  return {
    role: 'questioner',
    task: cluster.task,
    prompt: questionerPrompt({ task: cluster.task, documents, examples }),
    target: questionerTarget(cluster, q, undefined, opts),
  };
}

// ---------------------------------------------------------------------------------------------
// (c) responder and (d) grounding

function responderTarget(
  cluster: QaCluster,
  q: SynthQuestion,
  answer: string,
  opts: ExampleOptions,
): string {
  const final = answerSentence(cluster.task, answer);
  const about = subjectsOf(cluster, q.evidence);
  if (cluster.task === 'docmath') {
    const full = `Using ${about}: ${q.derivation ?? answer} = ${answer}. ${final}`;
    return fit(opts, full, `Using ${about}. ${final}`);
  }
  // A chain quotes the evidence for the RIGHT answer, so wrong answers keep the named-subjects form.
  const chain = opts.reasoning === 'chain' && answer === q.answer;
  if (cluster.task === 'mc') {
    const text = optionsOf(q)[answer as McLetter];
    const short = fit(opts, `Following ${about}, the option that fits is ${text}. ${final}`, final);
    if (!chain) return short;
    const quoted = evidenceChain(cluster, q, text);
    return fit(opts, `${quoted} The option that fits is ${text}. ${final}`, short);
  }
  const short = fit(opts, `Following ${about}, we reach ${answer}. ${final}`, final);
  return chain ? fit(opts, `${evidenceChain(cluster, q, answer)} ${final}`, short) : short;
}

/**
 * A responder example: the real prompt with ALL the cluster's documents; with probability
 * `wrongRate` the derivation ends in a plausible wrong answer.
 */
export function responderExample(cluster: QaCluster, rng: Rng, opts: ExampleOptions): TextExample {
  const q = pickQuestion(cluster, rng);
  const correct = rng.next() >= opts.wrongRate;
  const answer = correct ? q.answer : wrongAnswer(cluster, q, rng);
  const share = opts.evalPromptShare ?? 0;
  const evalWording = share > 0 && rng.next() < share;
  const prompt = evalWording
    ? evalPrompt(
        cluster.task,
        cluster.documents.join('\n\n'),
        cluster.task === 'mc' ? mcQuestionBlock(q.question, optionsOf(q)) : q.question,
      )
    : responderPrompt({
        task: cluster.task,
        documents: cluster.documents.join('\n'),
        question: responderQuestionOf(cluster.task, q),
      });
  return {
    role: 'responder',
    task: cluster.task,
    prompt,
    target: responderTarget(cluster, q, answer, opts),
    correct,
    reference: q.answer,
  };
}

/** A grounding-filter example: no documents, so the target admits it and guesses. */
export function groundingExample(cluster: QaCluster, rng: Rng): TextExample {
  const q = pickQuestion(cluster, rng);
  let guess: string;
  if (cluster.task === 'mc') guess = rng.choice(MC_LETTERS);
  else if (cluster.task === 'docmath') guess = ((1 + rng.int(2000)) / 10).toFixed(1);
  else guess = wrongAnswer(cluster, q, rng);
  return {
    role: 'grounding',
    task: cluster.task,
    prompt: groundingPrompt({ task: cluster.task, question: responderQuestionOf(cluster.task, q) }),
    target: `There are no documents, so this is a guess. ${answerSentence(cluster.task, guess)}`,
    correct: ruleScore(cluster.task, answerSentence(cluster.task, guess), q.answer).score === 1,
    reference: q.answer,
  };
}

// ---------------------------------------------------------------------------------------------
// (e) verifier

/** A responder answer sentence in one of several surface forms (right or wrong value). */
function answerVariant(cluster: QaCluster, value: string, rng: Rng): string {
  if (cluster.task === 'docmath') {
    const x = Number(value);
    // "(12.5%)" is not extractable by the rule check, so percent signs stay out of the forms.
    const forms = [value, x.toFixed(1), x.toFixed(2), `$${value}`];
    return answerSentence('docmath', rng.choice(forms));
  }
  if (cluster.task === 'qa') {
    const forms = [value, `the ${value}`, value.toLowerCase()];
    return answerSentence('qa', rng.choice(forms));
  }
  return answerSentence('mc', value);
}

/**
 * A verifier example: the real prompt on the (prediction, reference) pair `ruleScore` extracts
 * from a right or wrong answer; the decision is YES exactly when the rule check scores 1.
 */
export function verifierExample(cluster: QaCluster, rng: Rng): TextExample {
  const q = pickQuestion(cluster, rng);
  const value = rng.next() < 0.5 ? q.answer : wrongAnswer(cluster, q, rng);
  let rule = ruleScore(cluster.task, answerVariant(cluster, value, rng), q.answer);
  // The loop judges only answers whose prediction was extracted; fall back to the plain form.
  if (rule.pred === null)
    rule = ruleScore(cluster.task, answerSentence(cluster.task, value), q.answer);
  const pred = rule.pred ?? value;
  const gt = rule.gt ?? q.answer;
  const same = rule.score === 1;
  const explanation = same
    ? `Answer 1 (${pred}) and Answer 2 (${gt}) give the same answer.`
    : `Answer 1 (${pred}) and Answer 2 (${gt}) give different answers.`;
  return {
    role: 'verifier',
    task: cluster.task,
    prompt: verifierPrompt({
      problem: responderQuestionOf(cluster.task, q),
      prediction: pred,
      reference: gt,
    }),
    target: `Explanation: ${explanation}\nDecision: ${same ? '[[YES]]' : '[[NO]]'}`,
    correct: same,
    reference: q.answer,
    judged: [pred, gt],
  };
}
