/**
 * `spell export` of a LoRA run: the merged HF folder gives the adapted logits in spell, the peft
 * folder loads back, the GGUF is well formed; and — with the peer venvs (SPELL_PEERS_HOME, see
 * peers/lora/check_export.py; required when SPELL_REQUIRE_PEERS names the group) — transformers on the merged
 * folder, peft on base + adapter and llama.cpp on the GGUF continue a prompt greedily exactly as
 * spell does. The model is the tiny Llama of tests/fixtures/lora-ref with the bundled tokenizer.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelDir } from '../../src/assets.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.ts';
import { exportModel } from '../../src/model/export.ts';
import { llamaCppPreName } from '../../src/model/gguf-writer.ts';
import { loraConfig } from '../../src/model/lora.ts';
import { loadModelFolder } from '../../src/model/model-folder.ts';
import type { Qwen3Model } from '../../src/model/model.ts';
import { peerRequired } from '../../src/model/testing/required-peers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'spell-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = join(tmp, 'base');
cpSync(join(import.meta.dirname, '..', 'fixtures', 'lora-ref', 'base'), base, { recursive: true });
for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
  copyFileSync(join(defaultModelDir(), f), join(base, f));
}
const PROMPT = [1996, 5, 17, 300, 42];
const N = 8;

function greedy(m: Qwen3Model): number[] {
  const r = m.sample({
    prompt: PROMPT,
    numSamples: 1,
    params: { maxTokens: N, temperature: 0, topP: 1, topK: -1, seed: 0 },
  });
  return r.sequences[0].tokens;
}

/** A LoRA model trained a few steps (so the adapters are far from their no-op start). */
function trainedLora(): Qwen3Model {
  const m = loadModelFolder(base);
  m.enableLora(loraConfig({ rank: 4, alpha: 8, seed: 5 }));
  const seq = [...PROMPT, 7, 7, 7, 7, 7, 7];
  for (let i = 0; i < 5; i++) {
    m.forwardBackward(
      [{ modelInput: seq.slice(0, -1), targetTokens: seq.slice(1) }],
      'cross_entropy',
    );
    m.optimStep({
      learningRate: 0.05,
      beta1: 0.9,
      beta2: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      gradClipNorm: 0,
    });
  }
  return m;
}

const model = trainedLora();
const ckpt = join(tmp, 'ckpt');
saveCheckpoint(ckpt, model, {}, base);
const spellTokens = greedy(model);

const peersHome = resolve(process.env.SPELL_PEERS_HOME ?? 'peers/.venv');
const refPy = join(peersHome, 'reference', 'bin', 'python');
const llamaPy = join(peersHome, 'llamacpp', 'bin', 'python');
const script = join(import.meta.dirname, '..', '..', 'peers', 'lora', 'check_export.py');
function peer(py: string, args: string[]): number[] {
  return JSON.parse(
    execFileSync(py, [script, ...args], { encoding: 'utf8', timeout: 300_000 }),
  ) as number[];
}
const peerIt = (py: string, group: string) =>
  existsSync(py) || peerRequired(group) ? it : it.skip;

describe('spell export', () => {
  it('the adapters change the greedy continuation (the checks below are not vacuous)', () => {
    expect(greedy(loadModelFolder(base))).not.toEqual(spellTokens);
  });

  it('hf --merge: a plain HF folder whose logits are the adapted model', () => {
    const out = join(tmp, 'merged');
    const r = exportModel({ source: ckpt, out, format: 'hf', merge: true });
    expect(r.kind).toBe('hf-merged');
    expect(readdirSync(out).sort()).toEqual(
      [
        'config.json',
        'generation_config.json',
        'model.safetensors',
        'tokenizer.json',
        'tokenizer_config.json',
      ].sort(),
    );
    expect(r.files).toEqual(readdirSync(out).sort()); // the summary the CLI prints lists them all
    const merged = loadModelFolder(out);
    const a = merged.logits(PROMPT);
    const b = model.logits(PROMPT);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-4);
    expect(greedy(merged)).toEqual(spellTokens);
    expect(readdirSync(tmp).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('hf without --merge: the peft adapter folder, which loads back onto its base', () => {
    const out = join(tmp, 'adapter');
    const r = exportModel({ source: ckpt, out, format: 'hf', merge: false });
    expect(r.kind).toBe('peft-adapter');
    const cfg = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(cfg.base_model_name_or_path).toBe(base);
    const m = loadModelFolder(base);
    loadCheckpoint(out, m.lora ? m : (m.enableLora(loraConfig({ rank: 4, alpha: 8 })), m));
    expect(m.logits(PROMPT)).toEqual(model.logits(PROMPT));
  });

  it('gguf: a GGUF v3 file with every tensor', () => {
    const out = join(tmp, 'gguf');
    exportModel({ source: ckpt, out, format: 'gguf', merge: true, ggufDtype: 'f32' });
    const buf = readFileSync(join(out, 'model.gguf'));
    expect(buf.toString('latin1', 0, 4)).toBe('GGUF');
    expect(buf.readUInt32LE(4)).toBe(3);
    expect(Number(buf.readBigUInt64LE(8))).toBe(model.table.entries.length);
  });

  peerIt(refPy, 'reference')(
    'transformers on the merged folder continues greedily like spell',
    () => {
      expect(peer(refPy, ['hf', join(tmp, 'merged'), JSON.stringify(PROMPT), String(N)])).toEqual(
        spellTokens,
      );
    },
  );

  peerIt(refPy, 'reference')('peft on base + adapter continues greedily like spell', () => {
    expect(
      peer(refPy, ['peft', base, join(tmp, 'adapter'), JSON.stringify(PROMPT), String(N)]),
    ).toEqual(spellTokens);
  });

  peerIt(llamaPy, 'llamacpp')(
    'llama.cpp on the GGUF (F32 and F16) continues greedily like spell',
    () => {
      const f32 = peer(llamaPy, [
        'gguf',
        join(tmp, 'gguf', 'model.gguf'),
        JSON.stringify(PROMPT),
        String(N),
      ]);
      expect(f32).toEqual(spellTokens);
      const out16 = join(tmp, 'gguf16');
      exportModel({ source: ckpt, out: out16, format: 'gguf', merge: true, ggufDtype: 'f16' });
      const f16 = peer(llamaPy, [
        'gguf',
        join(out16, 'model.gguf'),
        JSON.stringify(PROMPT),
        String(N),
      ]);
      expect(f16).toEqual(spellTokens);
    },
  );
});

describe('the GGUF pre-tokenizer name', () => {
  it('names the regex llama.cpp must use, in llama.cpp’s own spelling', () => {
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, use_regex: true };
    expect(llamaCppPreName(byteLevel)).toBe('gpt-2');
    expect(llamaCppPreName(undefined)).toBe('gpt-2');
    expect(
      llamaCppPreName({
        type: 'Sequence',
        pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel],
      }),
    ).toBe('smollm');
    expect(
      llamaCppPreName({
        type: 'Sequence',
        pretokenizers: [
          {
            type: 'Split',
            pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|(?:[sS]|[tT]|[rR][eE]" },
          },
          byteLevel,
        ],
      }),
    ).toBe('qwen2');
  });
});
