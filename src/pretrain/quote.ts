/**
 * The `quote` drill: find a document among look-alikes by its opening words and quote it.
 *
 * Chained derivations fail in a particular place (measured): after naming a town the model writes
 * "Fenwick is a town in the region of" and then the region of SOME town. Every town document
 * has the same template, so a lookup keyed on the last token or two ("region of") is ambiguous;
 * the right value is the one in the document whose opening words the model wrote several tokens
 * earlier. The plain copy role never needs that (the copied documents are alone in the prompt)
 * and random-token drills never have repeated templates. Here the prompt is a random subset of
 * the cluster's documents, the documents to quote are named by their first words, and every
 * value token of the target can only be got right by reading the named document.
 *
 * Pure and synchronous; text only.
 */
import type { Rng } from '../core/rng.ts';
import type { QaCluster } from './clusters.ts';
import { sentencesOf } from './chain.ts';
import type { TextExample } from './examples.ts';

/** Longest opening the drill names, in tokens (three of them stay well inside a 2,048-token example). */
export const QUOTE_MAX_TOKENS = 48;

/** Words of a document's opening that name it in the instruction. */
const KEY_WORDS = 3;

/** The first `KEY_WORDS` words of a document (its key in the instruction). */
export function openingWords(doc: string): string {
  return doc.split(/\s+/).slice(0, KEY_WORDS).join(' ');
}

/**
 * What a quote asks for: a document's first two sentences, or only the first when two would be
 * longer than `maxTokens`; undefined when even one is (a table, say).
 */
export function openingOf(
  doc: string,
  countTokens: (text: string) => number,
  maxTokens: number,
): string | undefined {
  const sentences = sentencesOf(doc);
  for (const n of [2, 1]) {
    const text = sentences
      .slice(0, n)
      .join(' ')
      .replace(/\s*\n\s*/g, ' ');
    if (text !== '' && countTokens(text) <= maxTokens) return text;
  }
  return undefined;
}

/**
 * A quote example: 3–10 documents of the cluster (the quoted ones among them, in the cluster's
 * order, so the distractors share their templates), then an instruction naming 1–3 of them by
 * their opening words; the target is each named document's opening (`openingOf`), one per line,
 * in the instruction's order. Documents without a short enough opening, or whose opening words
 * are not unique in the cluster, are never named.
 * @throws RangeError when the cluster has no document that can be quoted.
 */
export function quoteExample(
  cluster: QaCluster,
  rng: Rng,
  countTokens: (text: string) => number,
  maxQuoteTokens: number,
): TextExample {
  const docs = cluster.documents;
  const keyCount = new Map<string, number>();
  for (const d of docs) keyCount.set(openingWords(d), (keyCount.get(openingWords(d)) ?? 0) + 1);
  const openings = new Map<number, string>();
  docs.forEach((d, i) => {
    const text = openingOf(d, countTokens, maxQuoteTokens);
    if (text !== undefined && keyCount.get(openingWords(d)) === 1) openings.set(i, text);
  });
  if (openings.size === 0) {
    throw new RangeError(
      `cluster ${cluster.id}: no document opening is short and unique enough to quote`,
    );
  }
  // Named documents first, then distractors up to the shown count: every prompt can be answered.
  const named = rng.sample([...openings.keys()], Math.min(openings.size, 1 + rng.int(3)));
  const others = docs.map((_, i) => i).filter((i) => !named.includes(i));
  const extra = Math.max(0, Math.min(docs.length, 3 + rng.int(8)) - named.length);
  const shown = [...named, ...rng.sample(others, Math.min(others.length, extra))].sort(
    (a, b) => a - b,
  );
  const keys = named.map((i) => `- ${openingWords(docs[i])} …`).join('\n');
  return {
    role: 'quote',
    task: cluster.task,
    prompt:
      // The responder prompt's text block: a lookup learned in one form did not carry to another.
      `Read the text below.\n\n<text>\n${shown.map((i) => docs[i]).join('\n')}\n</text>\n\n` +
      `Quote, word for word, the opening sentences of each document above that begins with these words:\n${keys}`,
    target: named.map((i) => openings.get(i) as string).join('\n'),
  };
}
