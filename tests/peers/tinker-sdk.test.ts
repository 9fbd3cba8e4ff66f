/**
 * The official tinker SDK drives `spell serve` (started here on a free loopback port): the JSON
 * era (0.24.1, peers group `tinker-json`) and the current protobuf era (0.38.0, group `tinker`).
 * peers/tinker/sdk_against_serve.py runs a LoRA training client through forward_backward
 * (cross_entropy, ppo), forward, optim_step, save_weights_for_sampler + sample, compute_logprobs,
 * top-k prompt logprobs, save/load state, and a cookbook-style RL loop; it exits non-zero with the
 * SDK's own error on the first difference.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localProvider, startServer, type SpellServer } from '../../src/serve/index.ts';
import { makeTinyModel } from '../engine/fixtures.ts';
import { ROOT, peerPython, run } from './peer-env.ts';
import { join } from 'node:path';

const model = makeTinyModel();
let server: SpellServer;

beforeAll(async () => {
  const { provider } = localProvider({
    modelDir: model.modelDir,
    checkpointDir: model.checkpointDir,
    modelName: 'tiny',
  });
  server = await startServer({ provider, port: 0, longPollMs: 2_000 });
});

afterAll(async () => {
  await server.close();
  model.remove();
});

describe.each([
  ['tinker-json', '0.24.1'],
  ['tinker', '0.38.0'],
])('official tinker SDK (%s, %s) against spell serve', (group, version) => {
  const python = peerPython(group);
  test.skipIf(python === undefined)(
    'training, sampling, prompt logprobs, state and an RL loop',
    async () => {
      const r = await run(
        python!,
        [join(ROOT, 'peers/tinker/sdk_against_serve.py'), server.url, 'tiny', '64'],
        { timeoutMs: 240_000, env: { PYTHONWARNINGS: 'ignore' } },
      );
      expect(r.stdout, r.stderr.slice(-3000)).toContain('sdk run complete');
      expect(r.stdout).toContain(`sdk=${version}`);
      expect(r.stdout).toMatch(/step compute_logprobs ok n=8/);
      expect(r.stdout).toMatch(/step rl_loop ok/);
      expect(r.code).toBe(0);
    },
    300_000,
  );
});
