/**
 * Chain-of-evidence derivations for the entity tasks (qa, mc): the evidence documents in hop
 * order, each quoted verbatim from its start through the sentence that names the next hop (or the
 * answer). A small model cannot do two or three hops in one forward pass, but it can do one
 * lookup per written sentence: name an entity, find the document that starts with it, copy until
 * the next entity appears. Writing the hops out turns a multi-hop question into a run of copies.
 *
 * Pure and synchronous; works on the generator's document text only.
 */
import type { SynthQuestion } from '../data/synth/text.ts';
import type { QaCluster } from './clusters.ts';

/** The sentences of a prose document, each with its closing full stop. */
export function sentencesOf(doc: string): string[] {
  return doc
    .split(/(?<=\.)\s+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The entity a document is about: the words of its first sentence before " is " / " was ". */
export function entityOf(doc: string): string {
  const first = sentencesOf(doc)[0] ?? '';
  const m = /^(?:The )?(.{1,40}?) (?:is|was) /.exec(first);
  return m ? m[1] : first.split(' ').slice(0, 2).join(' ');
}

/** Whether `text` names `entity` as a whole word. */
function names(text: string, entity: string): boolean {
  const escaped = entity.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z])${escaped}([^A-Za-z]|$)`).test(text);
}

/**
 * The question's evidence documents in hop order: first the one whose entity the question names,
 * then repeatedly the remaining one whose entity the current document names. Documents no hop
 * reaches (a comparison over several towns, say) follow in their own order.
 */
export function hopOrder(cluster: QaCluster, q: SynthQuestion): number[] {
  const left = [...q.evidence];
  const order: number[] = [];
  let context = q.question;
  while (left.length > 0) {
    const at = left.findIndex((i) => names(context, entityOf(cluster.documents[i])));
    const next = left.splice(at >= 0 ? at : 0, 1)[0];
    order.push(next);
    context = cluster.documents[next];
  }
  return order;
}

/** The document's sentences from its start through the first that names `target` (all of them if none does). */
function quoteThrough(doc: string, target: string | undefined): string {
  const sentences = sentencesOf(doc);
  const end = target === undefined ? -1 : sentences.findIndex((s) => names(s, target));
  return sentences.slice(0, end >= 0 ? end + 1 : 1).join(' ');
}

/**
 * The chain for a qa or mc question: each evidence document quoted through the sentence that
 * leads to the next hop; the last through the sentence holding `answerText` (the answer entity,
 * or the correct option's text for mc).
 */
export function evidenceChain(cluster: QaCluster, q: SynthQuestion, answerText: string): string {
  const order = hopOrder(cluster, q);
  const docs = order.map((i) => cluster.documents[i]);
  if (!docs.some((d) => names(q.question, entityOf(d)))) {
    // A comparison ("which town is largest?"): no chain, one measured fact per document.
    return docs
      .map((d) => {
        const fact = /has a population of (\d+)/.exec(d);
        return fact ? `${entityOf(d)} has a population of ${fact[1]}.` : (sentencesOf(d)[0] ?? '');
      })
      .join(' ');
  }
  return docs
    .map((doc, k) => {
      if (k + 1 < docs.length) return quoteThrough(doc, entityOf(docs[k + 1]));
      // The answer may be computed (an age): then stop at the sentence naming where we started.
      return names(doc, answerText)
        ? quoteThrough(doc, answerText)
        : quoteThrough(doc, entityOf(docs[0]));
    })
    .join(' ');
}
