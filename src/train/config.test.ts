import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../core/errors.ts';
import { DEFAULT_ALGORITHM_CONFIG, type AlgorithmConfig } from '../spell/config.ts';
import { parseOverrides, resolveTrainConfig } from './config.ts';
import { loadTrainConfig } from './load-config.ts';

describe('train config', () => {
  test('the algorithm section is the algorithm config, with its defaults from spell/config.ts', () => {
    const section: AlgorithmConfig = resolveTrainConfig({}).algorithm;
    expect(section).toEqual(DEFAULT_ALGORITHM_CONFIG);
    expect(section.gaussianSigma).toBeCloseTo(1 / 6, 12);
    expect(section.advantageEpsilon).toBe(1e-6);
    expect(section.historyPushLower).toBe(0.01);
  });

  test('algorithm cross-field rules are checked with their key path', () => {
    expect(() =>
      resolveTrainConfig({ algorithm: { historyPushLower: 0.9, historyPushUpper: 0.5 } }),
    ).toThrow(/algorithm\.historyPushLower \(0\.9\) must not exceed historyPushUpper \(0\.5\)/);
    expect(() =>
      resolveTrainConfig({ algorithm: { verifier: { agreementLower: 0.9, agreementUpper: 0.5 } } }),
    ).toThrow(/algorithm\.verifier\.agreementLower \(0\.9\) must not exceed agreementUpper/);
    expect(() => resolveTrainConfig({ algorithm: { gaussianSigma: 0 } })).toThrow(
      /algorithm\.gaussianSigma/,
    );
  });

  test('the paper preset carries the published 7B numbers', () => {
    const cfg = loadTrainConfig({ preset: 'paper' });
    expect(cfg.rollout.genBatchSize).toBe(480);
    expect(cfg.rollout.responderGroups).toBe(128);
    expect(cfg.rollout.groupSize).toBe(8);
    expect(cfg.rollout.verifierVotes).toBe(8);
    expect(cfg.algorithm.verifier.updateRatio).toBe(0.125);
    expect(cfg.data.docsPerQuestion).toBe(5);
    expect(cfg.algorithm.memoryCapacity).toBe(3);
    expect(cfg.rollout.maxPromptTokens).toBe(18000);
    expect(cfg.rollout.maxResponseTokens).toBe(4096);
    expect(cfg.rollout.temperature).toBe(0.7);
    expect(cfg.rollout.topP).toBe(0.95);
    expect(cfg.optim.learningRate).toBe(2e-6);
    expect(cfg.optim.weightDecay).toBe(0.01);
    expect(cfg.optim.gradClipNorm).toBe(1);
    expect(cfg.algorithm.worldSize).toBe(8);
  });

  test('the reward combination is the reference max(), except in the local preset (rule only)', () => {
    expect(resolveTrainConfig({}).algorithm.rewardCombine).toBe('max');
    expect(loadTrainConfig({ preset: 'paper' }).algorithm.rewardCombine).toBe('max');
    expect(loadTrainConfig({ preset: 'local' }).algorithm.rewardCombine).toBe('rule');
    expect(
      loadTrainConfig({ preset: 'local', overrides: ['algorithm.rewardCombine=max'] }).algorithm
        .rewardCombine,
    ).toBe('max');
    expect(() => loadTrainConfig({ overrides: ['algorithm.rewardCombine=median'] })).toThrow(
      /rewardCombine/,
    );
  });

  test('only the local preset requires free-form references to come from the documents', () => {
    expect(resolveTrainConfig({}).algorithm.qaAnswerInDocuments).toBe(false);
    expect(loadTrainConfig({ preset: 'paper' }).algorithm.qaAnswerInDocuments).toBe(false);
    expect(loadTrainConfig({ preset: 'local' }).algorithm.qaAnswerInDocuments).toBe(true);
    expect(
      loadTrainConfig({ preset: 'local', overrides: ['algorithm.qaAnswerInDocuments=false'] })
        .algorithm.qaAnswerInDocuments,
    ).toBe(false);
  });

  test('one task weight can be overridden alone; the others keep their defaults', () => {
    expect(
      loadTrainConfig({ preset: 'local', overrides: ['data.taskWeights.qa=0'] }).data.taskWeights,
    ).toEqual({ docmath: 1, qa: 0, mc: 1 });
  });

  test('an MC answer under the wrong letter is penalised unless swap is asked for', () => {
    expect(resolveTrainConfig({}).algorithm.mcWrongLetter).toBe('format_error');
    expect(
      loadTrainConfig({ overrides: ['algorithm.mcWrongLetter=swap'] }).algorithm.mcWrongLetter,
    ).toBe('swap');
    expect(() => loadTrainConfig({ overrides: ['algorithm.mcWrongLetter=shuffle'] })).toThrow(
      /mcWrongLetter/,
    );
  });

  test('the repeat guard is off by default and on in the local preset', () => {
    expect(resolveTrainConfig({}).algorithm.repeatWindow).toBe(0);
    expect(loadTrainConfig({ preset: 'paper' }).algorithm.repeatWindow).toBe(0);
    const local = loadTrainConfig({ preset: 'local' }).algorithm;
    expect([local.repeatWindow, local.repeatLimit, local.badCaseRatio]).toEqual([64, 8, 4]);
    expect(resolveTrainConfig({}).algorithm.badCaseRatio).toBe(1);
    expect(() => loadTrainConfig({ overrides: ['algorithm.repeatLimit=0'] })).toThrow(
      /repeatLimit/,
    );
  });

  test('precedence is preset < file < flags < overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'steps: 7\nrollout:\n  groupSize: 6\n  verifierVotes: 3\n');
    const cfg = loadTrainConfig({
      preset: 'local',
      configFile: file,
      flags: { rollout: { groupSize: 5 } },
      overrides: ['rollout.verifierVotes=4', 'name=abc'],
    });
    expect(cfg.steps).toBe(7);
    expect(cfg.rollout.groupSize).toBe(5);
    expect(cfg.rollout.verifierVotes).toBe(4);
    expect(cfg.name).toBe('abc');
    expect(Object.isFrozen(cfg.rollout)).toBe(true);
  });

  test('unknown keys are rejected with their path', () => {
    expect(() => resolveTrainConfig({ rollout: { groupSzie: 4 } })).toThrow(/rollout/);
    expect(() => loadTrainConfig({ overrides: ['optim.lr=1'] })).toThrow(ConfigurationError);
  });

  test('cross-field rules are checked', () => {
    expect(() =>
      resolveTrainConfig({ algorithm: { verifier: { agreementLower: 0.9, agreementUpper: 0.5 } } }),
    ).toThrow(/agreementLower/);
    expect(() => resolveTrainConfig({ engine: { kind: 'tinker', model: 'm' } })).toThrow(/baseUrl/);
    expect(() => resolveTrainConfig({ rollout: { groupSize: 1 } })).toThrow(/at least 2/);
  });

  test('overrides parse JSON values and reject malformed items', () => {
    expect(parseOverrides(['a.b=3', 'a.c=true', 'd=[1,2]', 'e=text'])).toEqual({
      a: { b: 3, c: true },
      d: [1, 2],
      e: 'text',
    });
    expect(() => parseOverrides(['novalue'])).toThrow(/key.path=value/);
    expect(() => parseOverrides(['a..b=1'])).toThrow(/empty key/);
  });

  test('a malformed YAML file names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'steps: [1,\n');
    expect(() => loadTrainConfig({ configFile: file })).toThrow(/bad\.yaml/);
    expect(() => loadTrainConfig({ configFile: join(dir, 'missing.yaml') })).toThrow(
      /missing\.yaml/,
    );
  });
});
