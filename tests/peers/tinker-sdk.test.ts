/**
 * The official tinker SDK drives `spell serve` (started here on a free loopback port): the JSON
 * era (0.24.1, peers group `tinker-json`) and the current protobuf era (0.38.0, group `tinker`).
 * peers/tinker/sdk_against_serve.py runs a LoRA training client through forward_backward
 * (cross_entropy, ppo), forward, optim_step, save_weights_for_sampler + sample, compute_logprobs,
 * top-k prompt logprobs, save/load state, a cookbook-style RL loop and (0.38) closing the service
 * client, which finishes the session and frees its engines; it exits non-zero with the SDK's own
 * error on the first difference.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localProvider, startServer, type SpellServer } from '../../src/serve/index.ts';
import { makeTinyModel } from '../engine/fixtures.ts';
import { ROOT, peerPython, run } from './peer-env.ts';
import { join } from 'node:path';

describe.each([
  ['tinker-json', '0.24.1'],
  ['tinker', '0.38.0'],
])('official tinker SDK (%s, %s) against spell serve', (group, version) => {
  const python = peerPython(group);
  // One server per SDK run, as a user would have: an SDK run holds up to 6 engines (base, four
  // training clients, one path sampler), and 0.24.x never finishes its session, so its models
  // would stay until the idle sweep (10 min) and a second run could meet the --max-engines cap.
  const model = makeTinyModel();
  let server: SpellServer | undefined;

  beforeAll(async () => {
    if (python === undefined) return;
    const { provider } = localProvider({
      modelDir: model.modelDir,
      checkpointDir: model.checkpointDir,
      modelName: 'tiny',
    });
    server = await startServer({ provider, port: 0, longPollMs: 2_000 });
  });

  afterAll(async () => {
    await server?.close();
    model.remove();
  });

  test.skipIf(python === undefined)(
    'training, sampling, prompt logprobs, state and an RL loop',
    async () => {
      const r = await run(
        python!,
        [join(ROOT, 'peers/tinker/sdk_against_serve.py'), server!.url, 'tiny', '64'],
        { timeoutMs: 240_000, env: { PYTHONWARNINGS: 'ignore' } },
      );
      expect(r.stdout, r.stderr.slice(-3000)).toContain('sdk run complete');
      expect(r.stdout).toContain(`sdk=${version}`);
      expect(r.stdout).toMatch(/step compute_logprobs ok n=8/);
      expect(r.stdout).toMatch(/step rl_loop ok/);
      expect(r.code).toBe(0);
      if (version !== '0.24.1') {
        // ServiceClient.close finished the session: its four training models were unloaded,
        // leaving the base engine and the engine loaded for create_sampling_client(model_path).
        expect(r.stdout).toContain('step session_finished ok');
        expect(server!.service.engineCount()).toBe(2);
      }
    },
    300_000,
  );
});
