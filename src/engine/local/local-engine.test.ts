/**
 * LocalEngine through the PolicyEngine port: info, train/sample round trip, save → load.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../core/errors.ts';
import { qwen3Config } from '../../model/index.ts';
import type { PolicyEngine } from '../types.ts';
import { LocalEngine } from './local-engine.ts';
import { createRandomModelFolder } from '../../model/random-folder.ts';

const root = mkdtempSync(join(tmpdir(), 'spell-local-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ADAM = {
  learningRate: 1e-2,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0,
  gradClipNorm: 1,
};

describe('LocalEngine', () => {
  it('trains, samples, saves and reloads through the PolicyEngine port', async () => {
    const modelDir = createRandomModelFolder(join(root, 'tiny'), qwen3Config(), 1);
    const engine: PolicyEngine = await LocalEngine.open({ modelDir });
    try {
      const info = await engine.info();
      expect(info).toMatchObject({
        modelName: 'tiny',
        lossAggregation: 'sum',
        vocabSize: 64,
        maxContext: 512,
      });

      const datum = { modelInput: [1, 2, 3], targetTokens: [2, 3, 4], weights: [1, 1, 1] };
      const before = await engine.forwardBackward([datum], 'cross_entropy');
      expect(before.logprobs[0]).toHaveLength(3);
      const step = await engine.optimStep(ADAM);
      expect(step.metrics.skipped).toBe(0);
      expect(step.metrics.grad_norm).toBeGreaterThan(0);
      await engine.refreshSampler();

      const ref = await engine.save('step-1');
      expect(ref).toBe(join(root, 'tiny-checkpoints', 'step-1'));
      expect(existsSync(join(ref, 'model.safetensors'))).toBe(true);
      const req = {
        prompt: [5, 6],
        numSamples: 2,
        params: { maxTokens: 5, temperature: 1, topP: 0.9, topK: 20, seed: 7 },
      };
      const s1 = await engine.sample(req);
      const afterSave = await engine.forward([datum], 'cross_entropy');

      // Train further, then load the checkpoint: everything returns to the saved state.
      await engine.forwardBackward([datum], 'cross_entropy');
      await engine.optimStep(ADAM);
      await engine.load(ref);
      expect((await engine.forward([datum], 'cross_entropy')).logprobs).toEqual(afterSave.logprobs);
      expect(await engine.sample(req)).toEqual(s1);
      for (const seq of s1.sequences) {
        expect(['stop', 'length']).toContain(seq.stopReason);
        expect(seq.logprobs).toHaveLength(seq.tokens.length);
      }
      await expect(engine.save('../escape')).rejects.toBeInstanceOf(ConfigurationError);
    } finally {
      await engine.close();
    }
  });
});
