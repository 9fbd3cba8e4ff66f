import { scoreSample } from '../eval/score.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir } from '../assets.ts';
import { Rng } from '../core/rng.ts';
import { synthTrain } from '../data/synth/corpus.ts';
import { DEFAULT_SYNTH_OPTIONS } from '../data/synth/default.ts';
import { parseQuestioner, parseVote, ruleScore } from '../spell/index.ts';
import type { Task } from '../spell/task.ts';
import { loadTokenizer, type HfTokenizer } from '../text/index.ts';
import { heldOutDocuments, trainingClusters, type QaCluster } from './clusters.ts';
import {
  answerSentence,
  documentSubject,
  groundingExample,
  lmExample,
  placeCorrectOption,
  questionerExample,
  responderExample,
  verifierExample,
  copyExample,
  repeatExample,
  type ExampleOptions,
} from './examples.ts';

let tok: HfTokenizer;
let clusters: QaCluster[];
let opts: ExampleOptions;
const TASKS: readonly Task[] = ['docmath', 'qa', 'mc'];

beforeAll(() => {
  tok = loadTokenizer(defaultModelDir());
  clusters = trainingClusters(DEFAULT_SYNTH_OPTIONS, 12);
  opts = {
    countTokens: (t) => tok.encode(t, { addSpecialTokens: false }).length,
    maxTargetTokens: 90,
    questionerDocs: 2,
    wrongRate: 0.3,
  };
});

function forEachCluster(fn: (c: QaCluster, rng: Rng) => void): void {
  const rng = new Rng(11);
  for (const c of clusters) for (let i = 0; i < 4; i++) fn(c, rng);
}

describe('training clusters', () => {
  it('replay the committed corpus: the first clusters per task have the documents of train.jsonl', () => {
    const corpus = synthTrain(DEFAULT_SYNTH_OPTIONS);
    for (const task of TASKS) {
      const mine = clusters.filter((c) => c.task === task);
      const theirs = corpus.filter((c) => c.task === task).slice(0, mine.length);
      expect(mine.map((c) => c.documents)).toEqual(theirs.map((c) => c.documents));
      expect(mine.map((c) => c.id)).toEqual(theirs.map((c) => c.id));
    }
  });

  it('never contain a document of the held-out evaluation set, even past the corpus size', () => {
    const evalDocs = heldOutDocuments(DEFAULT_SYNTH_OPTIONS);
    const many = trainingClusters(DEFAULT_SYNTH_OPTIONS, 130);
    expect(many).toHaveLength(390);
    for (const c of many) for (const d of c.documents) expect(evalDocs.has(d)).toBe(false);
  });
});

describe('literal helpers', () => {
  it('answer sentences follow the rule checks', () => {
    expect(answerSentence('docmath', '12.5')).toBe('Therefore, the answer is (12.5).');
    expect(answerSentence('qa', 'Lake Brun')).toBe('The correct answer is (Lake Brun).');
    expect(answerSentence('mc', 'C')).toBe('The correct answer is (C).');
  });

  it('documentSubject names what a document is about', () => {
    expect(documentSubject('The Kell is a river. It rises in the hills.')).toBe('The Kell');
    expect(documentSubject('Table 2: Costs (million dollars)\n| Item |')).toBe('Costs');
  });

  it('placeCorrectOption moves the right option to the demanded letter', () => {
    const q = {
      kind: 'k',
      question: 'Which?',
      answer: 'B',
      evidence: [0],
      options: ['w', 'right', 'x', 'y'] as const,
    };
    expect(placeCorrectOption(q, 'D')).toEqual({ A: 'w', B: 'x', C: 'y', D: 'right' });
    expect(placeCorrectOption(q, 'A')).toEqual({ A: 'right', B: 'w', C: 'x', D: 'y' });
  });
});

describe('role examples', () => {
  it('every questioner target parses to ok, with and without history, honouring the target letter', () => {
    forEachCluster((c, rng) => {
      for (const withHistory of [false, true]) {
        const ex = questionerExample(c, rng, withHistory, opts);
        expect(ex.prompt).toContain('<text>');
        expect(ex.prompt?.includes('Previous Examples')).toBe(withHistory);
        const parsed = parseQuestioner(c.task, ex.target, {
          countTokens: opts.countTokens,
          maxAnswerTokens: 40,
          ...(ex.targetLetter !== undefined ? { targetLetter: ex.targetLetter } : {}),
        });
        expect(parsed.kind, ex.target).toBe('ok');
        expect(opts.countTokens(ex.target)).toBeLessThanOrEqual(opts.maxTargetTokens);
      }
    });
  });

  it('questioner prompts see at least k = 2 documents', () => {
    const c = clusters.find((x) => x.task === 'docmath' && x.questions[0].evidence.length === 1);
    expect(c).toBeDefined();
    const ex = questionerExample(c as QaCluster, new Rng(1), false, opts);
    const block = /<text>\n([\s\S]*)\n<\/text>/.exec(ex.prompt ?? '')?.[1] ?? '';
    const shown = (c as QaCluster).documents.filter((d) => block.includes(d));
    expect(shown.length).toBeGreaterThanOrEqual(2);
  });

  it('responder targets score 1 under the rule check exactly when marked correct, and some are wrong', () => {
    let wrong = 0;
    forEachCluster((c, rng) => {
      const ex = responderExample(c, rng, opts);
      expect(ex.prompt).toContain(c.documents.join('\n'));
      const rule = ruleScore(c.task, ex.target, ex.reference ?? '');
      expect(rule.pred, ex.target).not.toBeNull();
      expect(rule.score, ex.target).toBe(ex.correct === true ? 1 : 0);
      if (ex.correct !== true) wrong++;
      expect(opts.countTokens(ex.target)).toBeLessThanOrEqual(opts.maxTargetTokens);
    });
    expect(wrong).toBeGreaterThan(0);
  });

  it("with evalPromptShare 1 the prompt is spell eval's wording and the eval scorer accepts the answer", () => {
    forEachCluster((c, rng) => {
      const ex = responderExample(c, rng, { ...opts, wrongRate: 0, evalPromptShare: 1 });
      expect(ex.prompt).toContain(`<text>\n${c.documents.join('\n\n')}\n</text>`);
      const scored = scoreSample(c.task, ex.target, ex.reference ?? '');
      expect(scored.rule['as-described'], ex.target).toBe(1);
    });
  });

  it('grounding prompts hold "Empty" and targets still end in a checkable answer', () => {
    forEachCluster((c, rng) => {
      const ex = groundingExample(c, rng);
      expect(ex.prompt).toContain('<text>\nEmpty\n</text>');
      expect(ruleScore(c.task, ex.target, ex.reference ?? '').pred).not.toBeNull();
    });
  });

  it('verifier targets parse with parseVote to the rule-check equivalence, with both decisions', () => {
    const seen = new Set<number>();
    forEachCluster((c, rng) => {
      const ex = verifierExample(c, rng);
      const vote = parseVote(ex.target);
      expect(vote).toBe(ex.correct === true ? 1 : 0);
      expect(ex.target).toMatch(/^Explanation: .*\nDecision: \[\[(YES|NO)\]\]$/);
      // the judged answers are shown in the prompt and restated in the target (the probe's copy test)
      const [pred, gt] = ex.judged ?? ['', ''];
      expect(pred.length * gt.length).toBeGreaterThan(0);
      expect(ex.prompt).toContain(pred);
      expect(ex.prompt).toContain(gt);
      expect(ex.target).toContain(`(${pred})`);
      expect(ex.target).toContain(`(${gt})`);
      seen.add(vote);
    });
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('copy examples show the documents in the prompt and ask for them verbatim', () => {
    forEachCluster((c, rng) => {
      const ex = copyExample(c, rng);
      expect(ex.role).toBe('copy');
      expect(ex.prompt?.endsWith(`\n\n${ex.target}`)).toBe(true);
      const runs = c.documents.flatMap((_, i) => [
        c.documents[i],
        c.documents.slice(i, i + 2).join('\n'),
      ]);
      expect(runs).toContain(ex.target);
    });
  });

  it('language-modelling examples are runs of whole documents', () => {
    forEachCluster((c, rng) => {
      const ex = lmExample(c, rng);
      expect(ex.prompt).toBeUndefined();
      for (const part of ex.target.split('\n|')[0].split('\n')) {
        expect(c.documents.some((d) => d.includes(part))).toBe(true);
      }
    });
  });
});

describe('repeat examples', () => {
  it('ask for a shuffled run of distinct cluster words back, word for word', () => {
    forEachCluster((c, rng) => {
      const ex = repeatExample(c, rng);
      expect(ex.role).toBe('repeat');
      const words = ex.target.split(' ');
      expect(words.length).toBeGreaterThanOrEqual(16);
      expect(words.length).toBeLessThanOrEqual(48);
      expect(ex.prompt?.endsWith(`\n\n${ex.target}`)).toBe(true);
      const vocabulary = new Set(c.documents.join(' ').split(/[\s.,;:()|]+/));
      for (const w of words) expect(vocabulary.has(w) && /^[A-Za-z]+$/.test(w)).toBe(true);
      expect(new Set(words).size).toBe(words.length);
    });
  });
});
