/**
 * Adapter-only checkpoints: the peft layout on disk (names, shapes, config), save → load gives
 * bit-identical logits and an identical continued training step, mismatched engines refuse.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../core/errors.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { qwen3Config } from './config.ts';
import { loraConfig } from './lora.ts';
import { Qwen3Model } from './model.ts';
import { readSafetensorsIndex } from './safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'spell-lora-ckpt-'));
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
const config = qwen3Config({ tie_word_embeddings: true });

function trained(): Qwen3Model {
  const m = Qwen3Model.random(config, 21);
  m.enableLora(loraConfig({ rank: 4, seed: 3 }));
  for (let i = 0; i < 2; i++) {
    m.forwardBackward(data, 'cross_entropy');
    m.optimStep(ADAM);
  }
  return m;
}

describe('adapter checkpoints', () => {
  it('are small peft folders with peft key names', () => {
    const a = trained();
    const ckpt = join(dir, 'layout');
    saveCheckpoint(ckpt, a, {}, '/base/model');
    expect(readdirSync(ckpt).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'optimizer.safetensors',
      'state.json',
    ]);
    const cfg = JSON.parse(readFileSync(join(ckpt, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      peft_type: 'LORA',
      r: 4,
      lora_alpha: 32,
      lora_dropout: 0,
      base_model_name_or_path: '/base/model',
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    });
    const idx = readSafetensorsIndex(join(ckpt, 'adapter_model.safetensors'));
    const q = idx.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(q?.shape).toEqual([4, config.hiddenSize]);
    const d = idx.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
    expect(d?.shape).toEqual([config.hiddenSize, 4]);
    expect(idx.tensors.size).toBe(config.numLayers * 7 * 2);
    const size = statSync(join(ckpt, 'adapter_model.safetensors')).size;
    expect(size).toBeLessThan(a.params.length * 4);
  });

  it('round-trip: identical logits and identical continued training (exact resume)', () => {
    const a = trained();
    const ckpt = join(dir, 'step-2');
    saveCheckpoint(ckpt, a, { note: 'x' });
    const b = Qwen3Model.random(config, 21);
    b.enableLora(loraConfig({ rank: 4, seed: 99 }));
    expect(loadCheckpoint(ckpt, b)).toEqual({ note: 'x' });
    expect(b.optimizerStep).toBe(2);
    expect(b.logits([5, 6, 7])).toEqual(a.logits([5, 6, 7]));
    for (const m of [a, b]) {
      m.forwardBackward(data, 'cross_entropy');
      m.optimStep(ADAM);
    }
    expect(Array.from(b.lora?.params ?? [])).toEqual(Array.from(a.lora?.params ?? []));
    expect(b.logits([5, 6, 7])).toEqual(a.logits([5, 6, 7]));
  });

  it('refuses an adapter of another rank, and full weights in a LoRA engine', () => {
    const a = trained();
    const ckpt = join(dir, 'r4');
    saveCheckpoint(ckpt, a);
    const other = Qwen3Model.random(config, 21);
    other.enableLora(loraConfig({ rank: 8 }));
    expect(() => loadCheckpoint(ckpt, other)).toThrow(CheckpointError);
    const full = Qwen3Model.random(config, 21);
    const fullDir = join(dir, 'full');
    saveCheckpoint(fullDir, full);
    expect(() => loadCheckpoint(fullDir, a)).toThrow(/holds full weights/);
    expect(() => loadCheckpoint(ckpt, full)).toThrow(/full fine-tuning/);
  });
});
