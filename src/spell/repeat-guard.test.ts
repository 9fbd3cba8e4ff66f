import { describe, expect, test } from 'vitest';
import { CheckpointError } from '../core/errors.ts';
import { DEFAULT_ALGORITHM_CONFIG } from './config.ts';
import { RepeatGuard, referenceKey } from './repeat-guard.ts';
import { questionerReward } from './rewards.ts';

describe('referenceKey', () => {
  test('docmath references compare by value', () => {
    expect(referenceKey('docmath', '10')).toBe('10');
    expect(referenceKey('docmath', '10.0')).toBe('10');
    expect(referenceKey('docmath', '$10')).toBe('10');
    expect(referenceKey('docmath', '12.5 million')).toBe('12.5');
    expect(referenceKey('docmath', '1/3')).toBe('0.333');
    expect(referenceKey('docmath', '10.01')).not.toBe(referenceKey('docmath', '10'));
    expect(referenceKey('docmath', 'yes')).toBe('true');
  });

  test('an unevaluable docmath reference and every MC letter have no key', () => {
    expect(referenceKey('docmath', 'the revenue')).toBeUndefined();
    expect(referenceKey('docmath', '')).toBeUndefined();
    expect(referenceKey('mc', 'B')).toBeUndefined();
  });

  test('qa references compare by their SQuAD-normalised text', () => {
    expect(referenceKey('qa', 'The Lake Shire.')).toBe('lake shire');
    expect(referenceKey('qa', 'lake  shire')).toBe('lake shire');
    expect(referenceKey('qa', 'Low Fells')).not.toBe(referenceKey('qa', 'Lake Shire'));
    expect(referenceKey('qa', 'the')).toBeUndefined();
  });
});

describe('RepeatGuard', () => {
  test('a reference already held by `limit` remembered questions is a repeat', () => {
    const guard = new RepeatGuard({ window: 10, limit: 2 });
    expect(guard.observe('docmath', '10')).toBe(false);
    expect(guard.observe('docmath', '10.0')).toBe(false);
    expect(guard.observe('docmath', '$10')).toBe(true);
    // repeats are remembered too: the constant stays blocked while the questioner writes it
    expect(guard.toJSON().keys.docmath).toEqual(['10', '10', '10']);
    expect(guard.observe('docmath', '7')).toBe(false);
  });

  test('tasks are counted apart and MC is never a repeat', () => {
    const guard = new RepeatGuard({ window: 10, limit: 1 });
    expect(guard.observe('qa', 'Mere')).toBe(false);
    expect(guard.observe('docmath', '5')).toBe(false);
    expect(guard.observe('qa', 'mere')).toBe(true);
    for (let i = 0; i < 5; i++) expect(guard.observe('mc', 'B')).toBe(false);
  });

  test('the window slides: old references age out', () => {
    const guard = new RepeatGuard({ window: 3, limit: 1 });
    expect(guard.observe('qa', 'Fane')).toBe(false);
    expect(guard.observe('qa', 'Mere')).toBe(false);
    expect(guard.observe('qa', 'Dane')).toBe(false);
    expect(guard.observe('qa', 'Holt')).toBe(false); // evicts Fane
    expect(guard.observe('qa', 'Fane')).toBe(false);
    expect(guard.observe('qa', 'Holt')).toBe(true);
  });

  test('window 0 is off: nothing is a repeat and nothing is remembered', () => {
    const guard = new RepeatGuard({ window: 0, limit: 1 });
    expect(guard.enabled).toBe(false);
    for (let i = 0; i < 4; i++) expect(guard.observe('docmath', '10')).toBe(false);
    expect(guard.toJSON().keys).toEqual({});
  });

  test('invalid settings are refused', () => {
    expect(() => new RepeatGuard({ window: -1, limit: 1 })).toThrow(/window/);
    expect(() => new RepeatGuard({ window: 4, limit: 0 })).toThrow(/limit/);
  });

  test('a checkpointed guard resumes with the same verdicts; a smaller window keeps the newest', () => {
    const a = new RepeatGuard({ window: 8, limit: 2 });
    for (const r of ['1', '2', '1', '3', '4']) a.observe('docmath', r);
    a.observe('qa', 'Fane');
    const json = JSON.parse(JSON.stringify(a.toJSON())) as unknown;
    const b = RepeatGuard.fromJSON(json, { window: 8, limit: 2 }, 'test');
    expect(b.toJSON()).toEqual(a.toJSON());
    for (const r of ['1', '4', '4', '2'])
      expect(b.observe('docmath', r)).toBe(a.observe('docmath', r));

    const narrow = RepeatGuard.fromJSON(json, { window: 2, limit: 1 }, 'test');
    expect(narrow.toJSON().keys.docmath).toEqual(['3', '4']);
  });

  test('a malformed checkpoint names what is wrong', () => {
    const cfg = { window: 4, limit: 1 };
    expect(() => RepeatGuard.fromJSON(null, cfg, 'ctl.json')).toThrow(CheckpointError);
    expect(() => RepeatGuard.fromJSON({ version: 2, keys: {} }, cfg, 'ctl.json')).toThrow(
      /ctl\.json.*version must be 1, got 2/,
    );
    expect(() => RepeatGuard.fromJSON({ version: 1, keys: { poetry: [] } }, cfg, 'x')).toThrow(
      /unknown task "poetry"/,
    );
    expect(() => RepeatGuard.fromJSON({ version: 1, keys: { qa: [1] } }, cfg, 'x')).toThrow(
      /keys\.qa must be a list of strings/,
    );
  });

  test('a bad_repeat question is paid like an ungrounded one', () => {
    const q = DEFAULT_ALGORITHM_CONFIG;
    expect(questionerReward({ kind: 'bad_repeat' }, q)).toBe(q.badGroundReward);
  });
});
