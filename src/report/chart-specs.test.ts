import { describe, expect, test } from 'vitest';
import { CHART_SPECS, discoverGroups, expandSeries } from './chart-specs.ts';

describe('chart specs', () => {
  test('tasks and roles are read from metric keys, including ones no list names', () => {
    const g = discoverGroups([
      'step',
      'responder/task/qa/pass_rate',
      'responder/task/newtask/pass_rate',
      'critic/role/judge/rewards/mean',
      'count/questioner/bad_ground',
    ]);
    expect(g).toEqual({ tasks: ['newtask', 'qa'], roles: ['judge'] });
  });

  test('templates expand per discovered group, fixed keys keep their role for the role toggles', () => {
    const byId = new Map(CHART_SPECS.map((s) => [s.id, s]));
    const pass = byId.get('pass-task');
    const verifier = byId.get('verifier');
    if (pass === undefined || verifier === undefined) throw new Error('chart missing');
    expect(expandSeries(pass, { tasks: ['qa'], roles: [] })).toEqual([
      { key: 'responder/task/qa/pass_rate', name: 'qa', task: 'qa' },
    ]);
    // no groups known yet: the defaults name the lines
    expect(expandSeries(pass, { tasks: [], roles: [] }).map((s) => s.name)).toEqual([
      'docmath',
      'qa',
      'mc',
    ]);
    expect(expandSeries(verifier, { tasks: [], roles: [] })[0]).toEqual({
      key: 'critic/role/verifier/rewards/mean',
      name: 'agreement reward',
      role: 'verifier',
    });
  });
});
