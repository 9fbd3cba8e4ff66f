import { beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir } from '../assets.ts';
import { Rng } from '../core/rng.ts';
import { DEFAULT_SYNTH_OPTIONS } from '../data/synth/default.ts';
import { MC_LETTERS, parseQuestioner, ruleScore, type McLetter } from '../spell/index.ts';
import { loadTokenizer } from '../text/index.ts';
import { entityOf, evidenceChain, hopOrder, sentencesOf } from './chain.ts';
import { trainingClusters, type QaCluster } from './clusters.ts';
import { questionerExample, responderExample, type ExampleOptions } from './examples.ts';

let clusters: QaCluster[];
let opts: ExampleOptions;

beforeAll(() => {
  const tok = loadTokenizer(defaultModelDir());
  clusters = trainingClusters(DEFAULT_SYNTH_OPTIONS, 10).filter((c) => c.task !== 'docmath');
  opts = {
    countTokens: (t) => tok.encode(t, { addSpecialTokens: false }).length,
    maxTargetTokens: 90,
    questionerDocs: 2,
    wrongRate: 0,
    reasoning: 'chain',
  };
});

/** The text a question's answer stands for: the entity (qa) or the correct option (mc). */
function answerText(c: QaCluster, q: QaCluster['questions'][number]): string {
  if (c.task !== 'mc') return q.answer;
  return (q.options as readonly string[])[MC_LETTERS.indexOf(q.answer as McLetter)];
}

describe('evidence chains', () => {
  it('name the entity a document is about', () => {
    expect(entityOf('The Dane is a river. It rises in the Kell Hills.')).toBe('Dane');
    expect(entityOf('Rolf Quist is an architect. Rolf Quist was born in 1960.')).toBe('Rolf Quist');
    expect(sentencesOf('A is b. It lies on c.  ')).toEqual(['A is b.', 'It lies on c.']);
  });

  it('order the evidence by hops: the entity the question names first, then what each document names', () => {
    const c = clusters.find((x) => x.task === 'qa') as QaCluster;
    const q = c.questions.find((x) => x.kind === 'birth_lake');
    if (q === undefined) throw new Error('the qa generator always writes a birth_lake question');
    const order = hopOrder(c, q).map((i) => c.documents[i]);
    expect(order).toHaveLength(3);
    expect(order[0]).toMatch(/ was born in \d+ in the town of /);
    expect(order[1]).toMatch(/ is a town in the region of /);
    expect(order[2]).toMatch(/ is a river\./);
    expect(q.question).toContain(entityOf(order[0]));
  });

  it('quote the documents verbatim and reach the answer (except computed ages)', () => {
    let checked = 0;
    for (const c of clusters) {
      for (const q of c.questions) {
        const chain = evidenceChain(c, q, answerText(c, q));
        if (q.kind === 'largest_town') {
          expect(chain).toMatch(/^(\S+ has a population of \d+\. ?){4}$/);
          continue;
        }
        // every sentence of the chain is one of the cluster's sentences
        const known = new Set(c.documents.flatMap(sentencesOf));
        for (const s of sentencesOf(chain)) expect(known.has(s)).toBe(true);
        if (q.kind !== 'founding_age') expect(chain).toContain(answerText(c, q));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('make responder and questioner targets that the parsers still accept', () => {
    const rng = new Rng(5);
    let chained = 0;
    for (const c of clusters) {
      const r = responderExample(c, rng, opts);
      expect(ruleScore(c.task, r.target, r.reference as string).score).toBe(1);
      expect(opts.countTokens(r.target)).toBeLessThanOrEqual(90);
      if (!r.target.includes('Following ')) chained++;
      const q = questionerExample(c, rng, false, opts);
      const parsed = parseQuestioner(c.task, q.target, {
        countTokens: opts.countTokens,
        maxAnswerTokens: 40,
        ...(q.targetLetter !== undefined ? { targetLetter: q.targetLetter } : {}),
      });
      expect(parsed.kind, q.target).toBe('ok');
      expect(opts.countTokens(q.target)).toBeLessThanOrEqual(90);
    }
    expect(chained).toBeGreaterThan(clusters.length / 2);
  });

  it('leave the subjects style (the default) as it was', () => {
    const a = responderExample(clusters[0], new Rng(9), { ...opts, reasoning: undefined });
    const b = responderExample(clusters[0], new Rng(9), { ...opts, reasoning: 'subjects' });
    expect(a.target).toBe(b.target);
    expect(a.target).toMatch(/^Following .* (we reach|the option that fits is) /);
  });
});
