import { describe, expect, test } from 'vitest';
import { Rng } from '../core/rng.ts';
import type { BatchAssemblyInput, QuestionerCandidate, SampleGroup } from './batch.ts';
import { assembleBatch, sampleBadCases, verifierGroupTarget } from './batch.ts';
import { isBadGround } from './rewards.ts';
import type { BadCaseLabel } from './rewards.ts';
import type { Task } from './task.ts';
import { TASKS } from './task.ts';

type Input = BatchAssemblyInput<number, string, number>;

function group(uid: string, n = 2): SampleGroup<number> {
  return { uid, items: Array.from({ length: n }, (_, i) => i) };
}

function q(uid: string, task: Task, badLabel?: BadCaseLabel): QuestionerCandidate<string> {
  return badLabel === undefined ? { uid, task, item: uid } : { uid, task, badLabel, item: uid };
}

function baseInput(over: Partial<Input> = {}): Input {
  return {
    responderGroups: [group('g1'), group('g2'), group('g3')],
    targetGroups: 2,
    questioners: [
      q('g1', 'qa'),
      q('g2', 'mc'),
      q('g3', 'qa'),
      q('b1', 'qa', 'bad_format'),
      q('b2', 'qa', 'bad_ground'),
      q('b3', 'mc', 'zero_variance'),
    ],
    verifierBuffer: [group('v1', 4), group('v2', 4), group('v3', 4)],
    // 2 kept groups × 2 samples × 1 / 2 votes = 2 verifier groups.
    verifierUpdateRatio: 1,
    verifierVotes: 2,
    badCaseRatio: 1,
    worldSize: 1,
    badCaseRng: new Rng(1),
    verifierRng: new Rng(2),
    ...over,
  };
}

describe('final batch assembly', () => {
  test('keeps the first target groups, their questioner samples as good, and one bad per good per task', () => {
    const out = assembleBatch(baseInput());
    expect(out.responder.map((g) => g.uid)).toEqual(['g1', 'g2']);
    expect(out.questionerGood.map((s) => s.uid)).toEqual(['g1', 'g2']);
    expect(out.questionerBad).toHaveLength(2);
    expect(out.questionerBad.filter((b) => b.task === 'qa')).toHaveLength(1);
    expect(out.questionerBad.filter((b) => b.task === 'mc').map((b) => b.label)).toEqual([
      'zero_variance',
    ]);
    expect(out.verifier).toHaveLength(8);
    expect(out.stats).toMatchObject({
      responderGroupsKept: 2,
      responderGroupsDropped: 1,
      responderGroupsShort: 0,
      badRequested: 2,
      badShortfall: 0,
      verifierSkipped: false,
    });
  });

  test('a short verifier buffer skips the verifier and says so', () => {
    const out = assembleBatch(baseInput({ verifierVotes: 1 }));
    expect(out.verifier).toEqual([]);
    expect(out.stats.verifierSkipped).toBe(true);
    expect(out.stats.verifierGroupsAvailable).toBe(3);
  });

  test('bad and verifier lists are cut to a multiple of the world size, and the cut is counted', () => {
    const out = assembleBatch(
      baseInput({ worldSize: 3, verifierBuffer: [group('v1', 4), group('v2', 4)] }),
    );
    expect(out.questionerBad).toHaveLength(0);
    expect(out.stats.badCutForWorldSize).toBe(2);
    expect(out.verifier).toHaveLength(6);
    expect(out.stats.verifierCutForWorldSize).toBe(2);
  });

  test('verifier group target follows int(trajectories × ratio / votes)', () => {
    expect(verifierGroupTarget(1024, 0.125, 8)).toBe(16);
    expect(verifierGroupTarget(24, 0.125, 4)).toBe(0);
  });
});

describe('stratified bad-case sampling', () => {
  const pool = [
    { uid: 'x1', task: 'mc' as const, label: 'bad_format' as const, item: 'x1' },
    { uid: 'x2', task: 'qa' as const, label: 'bad_ground' as const, item: 'x2' },
    { uid: 'x3', task: 'qa' as const, label: 'bad_ground' as const, item: 'x3' },
    { uid: 'x4', task: 'docmath' as const, label: 'zero_variance' as const, item: 'x4' },
  ];

  test("the issue's example: only tasks with good samples give bad ones, shortfalls carry", () => {
    // good = 3 mc + 1 qa, ratio 1. mc wants 3, has {x1} → carries 2; qa wants 1 + 2 = 3, has
    // {x2, x3} → shortfall 1. docmath has no good sample, so x4 is never drawn.
    const good = [q('a', 'mc'), q('b', 'mc'), q('c', 'mc'), q('d', 'qa')];
    for (let seed = 1; seed <= 20; seed++) {
      const r = sampleBadCases(good, pool, 1, new Rng(seed));
      expect(r.requested).toBe(4);
      expect(r.picked.map((p) => p.uid).sort()).toEqual(['x1', 'x2', 'x3']);
      expect(r.shortfall).toBe(1);
    }
  });

  test('tied tasks are visited in the order they first appear among the good samples', () => {
    const mcPool = [
      { uid: 'y1', task: 'mc' as const, label: 'bad_format' as const, item: 'y1' },
      { uid: 'y2', task: 'mc' as const, label: 'bad_format' as const, item: 'y2' },
    ];
    // qa first: qa has none and carries 1, mc gives 1 + 1 = 2.
    const qaFirst = sampleBadCases([q('a', 'qa'), q('b', 'mc')], mcPool, 1, new Rng(1));
    expect(qaFirst.picked).toHaveLength(2);
    expect(qaFirst.shortfall).toBe(0);
    // mc first: mc gives 1, qa wants 1, has none, and the 1 is dropped.
    const mcFirst = sampleBadCases([q('b', 'mc'), q('a', 'qa')], mcPool, 1, new Rng(1));
    expect(mcFirst.picked).toHaveLength(1);
    expect(mcFirst.shortfall).toBe(1);
  });

  test('no good samples, no bad ones', () => {
    const r = sampleBadCases([], pool, 1, new Rng(1));
    expect(r).toEqual({ picked: [], requested: 0, shortfall: 0 });
  });
});

describe('verifier target in a short step', () => {
  test('follows the responder samples kept: int(800 × 0.125 / 8) = 12 groups, not 16', () => {
    // The paper's sizes: 128 groups of 8 wanted; the gen-batch limit ended the step with 100.
    const responderGroups = Array.from({ length: 100 }, (_, i) => group(`r${i}`, 8));
    const out = assembleBatch({
      ...baseInput(),
      responderGroups,
      targetGroups: 128,
      questioners: responderGroups.map((g) => q(g.uid, 'qa')),
      verifierBuffer: Array.from({ length: 20 }, (_, i) => group(`v${i}`, 8)),
      verifierUpdateRatio: 0.125,
      verifierVotes: 8,
    });
    expect(out.stats.responderGroupsShort).toBe(28);
    expect(out.stats.verifierGroupsRequested).toBe(12);
    expect(out.verifier).toHaveLength(96);
    // A full step asks for int(1024 × 0.125 / 8) = 16.
    const full = assembleBatch({
      ...baseInput(),
      responderGroups: Array.from({ length: 130 }, (_, i) => group(`r${i}`, 8)),
      targetGroups: 128,
      verifierBuffer: Array.from({ length: 20 }, (_, i) => group(`v${i}`, 8)),
      verifierUpdateRatio: 0.125,
      verifierVotes: 8,
    });
    expect(full.stats.verifierGroupsRequested).toBe(16);
  });
});

/** A random step: questioners with grounding scores, responder groups for the survivors. */
function randomStep(seed: number): Input {
  const rng = new Rng(seed);
  const questioners: QuestionerCandidate<string>[] = [];
  const responderGroups: SampleGroup<number>[] = [];
  for (let i = 0; i < 30 + rng.int(40); i++) {
    const uid = `s${seed}-${i}`;
    const task = rng.choice(TASKS);
    const formatOk = rng.next() < 0.8;
    const groundingScore = rng.int(2);
    if (!formatOk) {
      questioners.push(q(uid, task, 'bad_format'));
    } else if (isBadGround(groundingScore, 0.1)) {
      questioners.push(q(uid, task, 'bad_ground'));
      // a buggy caller that still ran the responder: the label must win
      if (rng.next() < 0.5) responderGroups.push(group(uid));
    } else if (rng.next() < 0.4) {
      questioners.push(q(uid, task, 'zero_variance'));
    } else {
      questioners.push(q(uid, task));
      responderGroups.push(group(uid));
    }
  }
  const verifierBuffer = Array.from({ length: rng.int(10) }, (_, i) => group(`v${i}`, 4));
  return {
    responderGroups,
    targetGroups: 1 + rng.int(20),
    questioners,
    verifierBuffer,
    verifierUpdateRatio: rng.choice([0, 0.125, 0.5, 1]),
    verifierVotes: rng.choice([1, 2, 4]),
    badCaseRatio: rng.choice([0.5, 1, 2]),
    worldSize: rng.choice([1, 2, 8]),
    badCaseRng: new Rng(seed * 31),
    verifierRng: new Rng(seed * 37),
  };
}

describe('batch assembly properties', () => {
  test('is reproducible for a given seed', () => {
    for (let seed = 1; seed <= 20; seed++) {
      expect(assembleBatch(randomStep(seed))).toEqual(assembleBatch(randomStep(seed)));
    }
  });

  test('never returns more bad samples than asked, nor a bad-labelled sample as good', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const input = randomStep(seed);
      const out = assembleBatch(input);
      expect(out.questionerBad.length).toBeLessThanOrEqual(out.stats.badRequested);
      expect(out.questionerBad.length % input.worldSize).toBe(0);
      expect(out.questionerGood.every((s) => s.badLabel === undefined)).toBe(true);
      const grounded = new Set(
        input.questioners.filter((s) => s.badLabel === 'bad_ground').map((s) => s.uid),
      );
      expect(out.questionerGood.some((s) => grounded.has(s.uid))).toBe(false);
      expect(new Set(out.questionerBad.map((b) => b.uid)).size).toBe(out.questionerBad.length);
      expect(out.responder.length).toBeLessThanOrEqual(input.targetGroups);
    }
  });
});
