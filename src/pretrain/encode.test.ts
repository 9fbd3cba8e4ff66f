import { describe, expect, it } from 'vitest';
import { defaultModelDir } from '../assets.ts';
import { Rng } from '../core/rng.ts';
import { renderChat } from '../text/chat.ts';
import { loadTokenizer } from '../text/index.ts';
import { encodeExample, endOfTurnId, toDatum, trainedTokens } from './encode.ts';
import { DEFAULT_ROLE_WEIGHTS, drawExample, drawRole, parseRoleWeights } from './mixture.ts';
import { learningRateAt } from './schedule.ts';
import { trainingClusters } from './clusters.ts';
import { DEFAULT_SYNTH_OPTIONS } from '../data/synth/default.ts';

describe('toDatum', () => {
  it('puts weight only on positions predicting answer tokens (literal vector)', () => {
    const d = toDatum({ role: 'verifier', ids: [10, 11, 12, 13, 14, 15], promptTokens: 3 }, 0.5);
    expect(d.modelInput).toEqual([10, 11, 12, 13, 14]);
    expect(d.targetTokens).toEqual([11, 12, 13, 14, 15]);
    expect(d.weights).toEqual([0, 0, 0.5, 0.5, 0.5]);
    expect(
      trainedTokens({ role: 'verifier', ids: [10, 11, 12, 13, 14, 15], promptTokens: 3 }),
    ).toBe(3);
  });

  it('trains every position of a language-modelling text', () => {
    const d = toDatum({ role: 'lm', ids: [1, 2, 3, 4], promptTokens: 0 }, 1);
    expect(d.weights).toEqual([1, 1, 1]);
  });
});

describe('encodeExample', () => {
  it('renders the prompt as the trainer does and ends the answer with <|im_end|>', () => {
    const tok = loadTokenizer(defaultModelDir());
    const enc = encodeExample(
      tok,
      { role: 'verifier', task: 'qa', prompt: 'Is it?', target: 'Decision: [[YES]]' },
      { enableThinking: false, maxLmTokens: 100 },
    );
    const prompt = renderChat(tok, [{ role: 'user', content: 'Is it?' }], {
      addGenerationPrompt: true,
      enableThinking: false,
    }).ids;
    expect(enc.ids.slice(0, enc.promptTokens)).toEqual(prompt);
    expect(enc.ids[enc.ids.length - 1]).toBe(endOfTurnId(tok));
    expect(tok.decode(enc.ids.slice(enc.promptTokens, -1))).toBe('Decision: [[YES]]');
  });
});

describe('mixture', () => {
  it('is a pure function of the seed', () => {
    const clusters = trainingClusters(DEFAULT_SYNTH_OPTIONS, 3);
    const opts = {
      countTokens: (t: string) => t.length,
      maxTargetTokens: 1000,
      questionerDocs: 2,
      wrongRate: 0.2,
    };
    const stream = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () =>
        drawExample(clusters, DEFAULT_ROLE_WEIGHTS, rng, opts),
      );
    };
    expect(stream(5)).toEqual(stream(5));
    expect(stream(5)).not.toEqual(stream(6));
  });

  it('never draws a role of weight 0', () => {
    const rng = new Rng(3);
    const w = {
      lm: 0,
      questioner: 1,
      responder: 0,
      grounding: 0,
      verifier: 2,
      copy: 0,
      repeat: 0,
      induction: 0,
      quote: 0,
      pointer: 0,
    };
    for (let i = 0; i < 200; i++) expect(['questioner', 'verifier']).toContain(drawRole(w, rng));
    expect(() => drawRole({ ...w, questioner: 0, verifier: 0 }, rng)).toThrow(RangeError);
  });

  it('parses --role-weights over the defaults and names a bad entry', () => {
    expect(parseRoleWeights('copy=0.5, lm=0')).toEqual({
      ...DEFAULT_ROLE_WEIGHTS,
      copy: 0.5,
      lm: 0,
    });
    expect(() => parseRoleWeights('copy=-1')).toThrow(/"copy=-1" must be <role>=<number >= 0>/);
    expect(() => parseRoleWeights('critic=1')).toThrow(/"critic=1".*one of lm, questioner/);
    expect(() => parseRoleWeights('copy')).toThrow(/"copy" must be/);
    const none = Object.keys(DEFAULT_ROLE_WEIGHTS)
      .map((r) => `${r}=0`)
      .join(',');
    expect(() => parseRoleWeights(none)).toThrow(/no role with a positive weight/);
  });
});

describe('learningRateAt', () => {
  const s = { peak: 1e-3, warmupSteps: 10, totalSteps: 110, floorRatio: 0.1 };
  it.each([
    [1, 1e-4],
    [10, 1e-3],
    [60, 0.55e-3],
    [110, 1e-4],
    [500, 1e-4],
  ])('step %i → %f', (step, lr) => {
    expect(learningRateAt(s, step)).toBeCloseTo(lr, 12);
  });
});
