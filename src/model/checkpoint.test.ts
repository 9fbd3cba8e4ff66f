/**
 * Checkpoints: save → load gives bit-identical logits and an identical next training step.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../core/errors.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { qwen3Config } from './config.ts';
import { Qwen3Model } from './model.ts';

const dir = mkdtempSync(join(tmpdir(), 'spell-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ADAM = {
  learningRate: 1e-2,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.01,
  gradClipNorm: 1,
};
const data = [{ modelInput: [1, 2, 3, 4], targetTokens: [2, 3, 4, 5] }];

describe('checkpoints', () => {
  it('round-trips weights and optimizer state: identical logits, identical continued training', () => {
    const config = qwen3Config({ tie_word_embeddings: true });
    const a = Qwen3Model.random(config, 21);
    for (let i = 0; i < 2; i++) {
      a.forwardBackward(data, 'cross_entropy');
      a.optimStep(ADAM);
    }
    const ckpt = join(dir, 'step-2');
    saveCheckpoint(ckpt, a, { note: 'hello' });
    const b = new Qwen3Model(config);
    expect(loadCheckpoint(ckpt, b)).toEqual({ note: 'hello' });
    expect(b.adamState.step).toBe(2);
    expect(b.logits([5, 6, 7])).toEqual(a.logits([5, 6, 7]));
    for (const m of [a, b]) {
      m.forwardBackward(data, 'cross_entropy');
      m.optimStep(ADAM);
    }
    expect(b.params).toEqual(a.params);
    expect(b.adamState.m).toEqual(a.adamState.m);
  });

  it('overwrites atomically and leaves no temporary folders behind', () => {
    const config = qwen3Config();
    const m = Qwen3Model.random(config, 22);
    const ckpt = join(dir, 'same');
    saveCheckpoint(ckpt, m);
    m.forwardBackward(data, 'cross_entropy');
    m.optimStep(ADAM);
    saveCheckpoint(ckpt, m);
    const back = new Qwen3Model(config);
    loadCheckpoint(ckpt, back);
    expect(back.params).toEqual(m.params);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(existsSync(join(ckpt, 'optimizer.safetensors'))).toBe(true);
  });

  it('refuses a checkpoint of a different shape and leaves the model untouched', () => {
    const small = Qwen3Model.random(qwen3Config(), 23);
    const ckpt = join(dir, 'small');
    saveCheckpoint(ckpt, small);
    const other = Qwen3Model.random(qwen3Config({ num_hidden_layers: 3 }), 24);
    const before = Float32Array.from(other.params);
    expect(() => loadCheckpoint(ckpt, other)).toThrow(CheckpointError);
    expect(other.params).toEqual(before);
  });
});
