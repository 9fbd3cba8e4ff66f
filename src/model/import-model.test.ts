/**
 * `importModel` on HF folders (the tiny transformers fixtures: sharded F16 Qwen2, BF16 Llama) and
 * its refusals: an occupied --out, a GGUF without model metadata — with nothing left behind.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, ConfigurationError } from '../core/errors.ts';
import { importModel } from './import-model.ts';
import { loadModelFolder } from './model-folder.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'tests', 'fixtures');

describe('model import', () => {
  it.each([
    { family: 'qwen2', types: { F16: 27 } },
    { family: 'llama', types: { BF16: 20 } },
  ])('an HF $family folder becomes one F32 file with the same weights', ({ family, types }) => {
    const src = join(FIXTURES, 'models', `tiny-${family}`);
    const out = join(mkdtempSync(join(tmpdir(), 'spell-import-')), 'out');
    const res = importModel(src, out);
    expect(res).toMatchObject({ source: 'hf', family, tensorTypes: types });
    expect(readdirSync(out).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'model.safetensors',
    ]);
    const a = loadModelFolder(src);
    const b = loadModelFolder(out);
    expect(b.config).toEqual(a.config);
    expect(b.params).toEqual(a.params);
  });

  it('refuses an --out folder that has files, naming it', () => {
    const out = mkdtempSync(join(tmpdir(), 'spell-import-'));
    writeFileSync(join(out, 'keep.txt'), 'x');
    expect(() => importModel(join(FIXTURES, 'models', 'tiny-qwen3'), out)).toThrow(
      ConfigurationError,
    );
    expect(() => importModel(join(FIXTURES, 'models', 'tiny-qwen3'), out)).toThrow(
      /already exists and is not an empty folder/,
    );
  });

  it('a GGUF that is not a model is refused naming what is missing, leaving no folder', () => {
    const parent = mkdtempSync(join(tmpdir(), 'spell-import-'));
    mkdirSync(join(parent, 'x'));
    const run = (): unknown => importModel(join(FIXTURES, 'gguf', 'types.gguf'), join(parent, 'm'));
    expect(run).toThrow(CheckpointError);
    expect(run).toThrow(/no tensor "token_embd.weight"/);
    expect(existsSync(join(parent, 'm'))).toBe(false);
    expect(readdirSync(parent)).toEqual(['x']);
  });
});
