/**
 * Config validation per family: what each family turns on, and the typed one-line errors for
 * architectures and fields the decoder does not implement (never a silently wrong model).
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../core/errors.ts';
import { parseQwen3Config, qwen3Config, toHfConfigJson } from './config.ts';
import { modelInvFreq } from './rope-freq.ts';

describe('model families', () => {
  it.each([
    { arch: 'Qwen3ForCausalLM', family: 'qwen3', qkNorm: true, qkvBias: false },
    { arch: 'Qwen2ForCausalLM', family: 'qwen2', qkNorm: false, qkvBias: true },
    { arch: 'LlamaForCausalLM', family: 'llama', qkNorm: false, qkvBias: false },
  ])('$arch is the $family family', ({ arch, family, qkNorm, qkvBias }) => {
    const c = qwen3Config({ architectures: [arch] });
    expect(c).toMatchObject({ family, qkNorm, qkvBias });
    // The HF config it writes reads back as the same config.
    expect(parseQwen3Config(toHfConfigJson(c))).toEqual(c);
  });

  it('model_type alone picks the family; neither means qwen3 (older spell folders)', () => {
    const hf: Record<string, unknown> = { ...toHfConfigJson(qwen3Config()) };
    delete hf.architectures;
    expect(parseQwen3Config({ ...hf, model_type: 'llama' }).family).toBe('llama');
    delete hf.model_type;
    expect(parseQwen3Config(hf).family).toBe('qwen3');
  });

  it.each([
    [{ architectures: ['MistralForCausalLM'] }, 'field "architectures" is ["MistralForCausalLM"]'],
    [{ architectures: ['Qwen3ForCausalLM'], model_type: 'qwen2' }, 'field "model_type" is "qwen2"'],
    [{ model_type: 'gemma' }, 'field "model_type" is "gemma"'],
    [{ use_sliding_window: true }, 'field "use_sliding_window" is true'],
    [{ layer_types: ['full_attention', 'sliding_attention'] }, 'field "layer_types"'],
    [{ num_experts: 8 }, 'field "num_experts" is 8'],
    [{ num_local_experts: 4 }, 'field "num_local_experts" is 4'],
    [{ architectures: ['LlamaForCausalLM'], attention_bias: true }, 'field "attention_bias"'],
    [{ mlp_bias: true }, 'field "mlp_bias" is true'],
    [{ hidden_act: 'gelu' }, 'field "hidden_act" is "gelu"'],
    [{ partial_rotary_factor: 0.5 }, 'field "partial_rotary_factor" is 0.5'],
    [
      { rope_scaling: { rope_type: 'yarn', factor: 4 } },
      'field "rope_scaling.rope_type" is "yarn"',
    ],
    [{ rope_scaling: { rope_type: 'llama3', factor: 8 } }, 'rope_scaling.low_freq_factor'],
  ])('%j is refused naming the field', (overrides, message) => {
    expect(() => qwen3Config(overrides)).toThrow(ConfigurationError);
    expect(() => qwen3Config(overrides)).toThrow(message);
  });

  it('MoE keys set to 0 or null are not experts', () => {
    expect(qwen3Config({ num_experts: 0, num_local_experts: null }).family).toBe('qwen3');
  });
});

describe('RoPE scaling', () => {
  const base = { head_dim: 64, hidden_size: 256, num_attention_heads: 4, rope_theta: 500_000 };

  it('llama3 keeps short wavelengths, slows long ones by factor, interpolates between', () => {
    const plain = modelInvFreq(qwen3Config(base));
    const scaling = {
      rope_type: 'llama3',
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 8192,
    };
    const scaled = modelInvFreq(qwen3Config({ ...base, rope_scaling: scaling }));
    const wavelen = (f: number): number => (2 * Math.PI) / f;
    let kept = 0;
    let slowed = 0;
    let mid = 0;
    plain.forEach((f, i) => {
      if (wavelen(f) < 8192 / 4) {
        expect(scaled[i]).toBe(f);
        kept++;
      } else if (wavelen(f) > 8192) {
        expect(scaled[i]).toBeCloseTo(f / 8, 15);
        slowed++;
      } else {
        expect(scaled[i]).toBeGreaterThanOrEqual(f / 8);
        expect(scaled[i]).toBeLessThanOrEqual(f);
        mid++;
      }
    });
    expect(kept > 0 && slowed > 0 && mid > 0).toBe(true);
  });

  it('linear divides every frequency by factor; rope_type default is plain RoPE', () => {
    const plain = modelInvFreq(qwen3Config(base));
    const lin = modelInvFreq(qwen3Config({ ...base, rope_scaling: { type: 'linear', factor: 2 } }));
    plain.forEach((f, i) => expect(lin[i]).toBeCloseTo(f / 2, 15));
    const dflt = modelInvFreq(qwen3Config({ ...base, rope_scaling: { rope_type: 'default' } }));
    expect(dflt).toEqual(plain);
  });
});
