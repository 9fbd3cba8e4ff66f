/**
 * The pointer drill: records that share a template, one of them to be repeated by name.
 *
 * Each example draws a template of two filler runs shared by every record, and 3–8 records
 * `name, filler 1, value 1, filler 2, value 2` (names and values random ids, names unique). The
 * prompt lists the records and then names 1–3 of them; the target repeats each named record in
 * full. Inside a record the last few tokens before a value are the same in every record, so a
 * lookup keyed on them (the induction drill's mechanism) finds every record's value equally; only
 * keeping track of WHICH record is being copied gets the value right.
 *
 * Why a drill of its own: on the synthetic documents, a model that had learned the `quote` drill
 * predicted the copied token well when the four tokens before it occur once in the prompt (0.34
 * nats, p > 0.5 for 86% of them) and at about chance among the candidates when they occur in
 * several documents with different continuations (1.86 nats, 26%) — and those are the positions
 * that carry the answer ("… is a town in the region of" → which region). Such positions are about
 * 1 in 11 target tokens in the quote drill and 1 in 9 here; what this drill adds is that nothing
 * else helps: random ids, no language to model, and no prior that favours one candidate value.
 *
 * Token ids, not text, like the induction drill (same vocabulary and chat form). Pure; randomness
 * from the injected Rng.
 */
import type { Rng } from '../core/rng.ts';
import type { HfTokenizer } from '../text/tokenizer.ts';
import type { EncodedExample } from './encode.ts';
import {
  DEFAULT_DRILL_CHAT_SHARE,
  drillChatFrame,
  poseDrill,
  randomIds,
  type InductionVocab,
} from './induction.ts';

/** The drill's instruction when it is posed as a chat turn. */
const CHAT_INSTRUCTION =
  'Each group of tokens below is a record that starts with its name; the names of some records ' +
  'follow at the end. Repeat those records in full, in the order of the names.\n\n';

/** The induction drill's ids and separator, with this drill's own chat instruction. */
export function pointerVocab(
  base: InductionVocab,
  tok: HfTokenizer,
  enableThinking = false,
): InductionVocab {
  return { ...base, ...drillChatFrame(tok, CHAT_INSTRUCTION, enableThinking) };
}

/** Shape limits of one example (inclusive ranges). */
const RECORDS = [3, 8] as const;
/** Tokens per record name. */
export const POINTER_NAME_TOKENS = 2;
// Fillers up to 6 tokens: past the 4-token window the held-out lookup measure keys on.
const FILLER_TOKENS = [3, 6] as const;
const VALUE_TOKENS = [1, 2] as const;
const QUERIES = [1, 3] as const;

function between(rng: Rng, [lo, hi]: readonly [number, number]): number {
  return lo + rng.int(hi - lo + 1);
}

/** The content of one drill: the records (each starting with its name) and the asked ones. */
export interface PointerTask {
  readonly records: readonly (readonly number[])[];
  /** Indices into `records`, in the order they are asked for. */
  readonly asked: readonly number[];
}

/** Draw the records and queries of one drill. */
export function pointerTask(rng: Rng, vocab: InductionVocab): PointerTask {
  const filler1 = randomIds(rng, vocab, between(rng, FILLER_TOKENS));
  const filler2 = randomIds(rng, vocab, between(rng, FILLER_TOKENS));
  const count = between(rng, RECORDS);
  const names: number[][] = [];
  const seen = new Set<string>();
  while (names.length < count) {
    // Distinct names, or the lookup by name would itself be ambiguous.
    const name = randomIds(rng, vocab, POINTER_NAME_TOKENS);
    const key = name.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    names.push(name);
  }
  const records = names.map((name) => [
    ...name,
    ...filler1,
    ...randomIds(rng, vocab, between(rng, VALUE_TOKENS)),
    ...filler2,
    ...randomIds(rng, vocab, between(rng, VALUE_TOKENS)),
  ]);
  const asked = rng.sample(
    records.map((_, i) => i),
    Math.min(count, between(rng, QUERIES)),
  );
  return { records, asked };
}

/**
 * One pointer drill. Bare form: separator, the records one per separator, two separators, the
 * asked names, two separators, then the asked records (the target). With probability `chatShare`
 * the same content is a chat turn: user = instruction, records and names; assistant = the asked
 * records, end of turn.
 */
export function pointerExample(
  rng: Rng,
  vocab: InductionVocab,
  chatShare = DEFAULT_DRILL_CHAT_SHARE,
): EncodedExample {
  const { records, asked } = pointerTask(rng, vocab);
  const sep = vocab.separator;
  const joined = (parts: readonly (readonly number[])[]): number[] =>
    parts.flatMap((p, i) => (i === 0 ? [...p] : [...sep, ...p]));
  const names = asked.map((i) => records[i].slice(0, POINTER_NAME_TOKENS));
  const body = [...joined(records), ...sep, ...sep, ...joined(names)];
  const target = joined(asked.map((i) => records[i]));
  return poseDrill('pointer', body, target, rng, vocab, chatShare, [...sep, ...sep]);
}
