/**
 * safetensors I/O: round trip, BF16/F16 decoding with literal vectors, and corrupt files whose
 * errors name the tensor and the file.
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../core/errors.ts';
import {
  halfToFloat,
  readSafetensorsIndex,
  readTensorInto,
  writeSafetensors,
} from './safetensors.ts';
import { qwen3Config } from './config.ts';
import { loadModelFolder, writeModelFolder } from './model-folder.ts';
import { Qwen3Model } from './model.ts';

const dir = mkdtempSync(join(tmpdir(), 'spell-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file with a hand-written header (for dtypes we never write). */
function rawFile(name: string, header: Record<string, unknown>, data: Buffer): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

describe('safetensors', () => {
  it('round-trips F32 tensors bit for bit', () => {
    const file = join(dir, 'a.safetensors');
    const a = new Float32Array([1.5, -2, 3.25, Math.PI, -0, 1e-30]);
    writeSafetensors(file, [{ name: 'x.weight', shape: [2, 3], data: a }], { format: 'pt' });
    const idx = readSafetensorsIndex(file);
    expect(idx.metadata).toEqual({ format: 'pt' });
    const out = new Float32Array(6);
    readTensorInto(idx, 'x.weight', [2, 3], out);
    expect(Array.from(out)).toEqual(Array.from(a));
    // The data section starts 8-byte aligned.
    const headerLen = Number(readFileSync(file).readBigUInt64LE(0));
    expect((8 + headerLen) % 8).toBe(0);
  });

  it('reads BF16 and F16 as float32', () => {
    // bf16 0x3fc0 = 1.5, 0xc000 = -2; f16 0x3e00 = 1.5, 0xc000 = -2, 0x0001 = 2^-24
    const bf = Buffer.from([0xc0, 0x3f, 0x00, 0xc0]);
    const f16 = Buffer.from([0x00, 0x3e, 0x00, 0xc0, 0x01, 0x00]);
    const file = rawFile(
      'h.safetensors',
      {
        b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] },
        h: { dtype: 'F16', shape: [3], data_offsets: [4, 10] },
      },
      Buffer.concat([bf, f16]),
    );
    const idx = readSafetensorsIndex(file);
    const b = new Float32Array(2);
    const h = new Float32Array(3);
    readTensorInto(idx, 'b', [2], b);
    readTensorInto(idx, 'h', [3], h);
    expect(Array.from(b)).toEqual([1.5, -2]);
    expect(Array.from(h)).toEqual([1.5, -2, Math.fround(2 ** -24)]);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
  });

  it('a truncated file is a CheckpointError naming the tensor and the file', () => {
    const file = join(dir, 't.safetensors');
    writeSafetensors(file, [
      { name: 'first', shape: [2], data: new Float32Array(2) },
      { name: 'second', shape: [4], data: new Float32Array(4) },
    ]);
    truncateSync(file, readFileSync(file).length - 3);
    expect(() => readSafetensorsIndex(file)).toThrow(CheckpointError);
    expect(() => readSafetensorsIndex(file)).toThrow(/t\.safetensors: tensor "second".*truncated/);
  });

  it('a bad header is a CheckpointError naming the file', () => {
    const file = join(dir, 'bad.safetensors');
    writeFileSync(file, Buffer.from([255, 255, 255, 255, 0, 0, 0, 0, 1, 2]));
    expect(() => readSafetensorsIndex(file)).toThrow(/bad\.safetensors: bad header length/);
    const notJson = rawFile('nj.safetensors', {}, Buffer.alloc(0));
    writeFileSync(
      notJson,
      Buffer.concat([readFileSync(notJson).subarray(0, 8), Buffer.from('{]')]),
    );
    expect(() => readSafetensorsIndex(notJson)).toThrow(CheckpointError);
  });

  it('a model folder with a wrong shape or a missing tensor names that tensor', () => {
    const config = qwen3Config();
    const model = Qwen3Model.random(config, 1);
    const good = join(dir, 'model');
    writeModelFolder(good, config, model.table, model.params);
    expect(loadModelFolder(good).params).toEqual(model.params);

    const tensors = model.table.entries.map((e) => ({
      name: e.name,
      shape: e.name === 'model.layers.1.mlp.up_proj.weight' ? [e.shape[1], e.shape[0]] : e.shape,
      data: model.params.subarray(e.offset, e.offset + e.size),
    }));
    writeSafetensors(join(good, 'model.safetensors'), tensors);
    expect(() => loadModelFolder(good)).toThrow(
      /model\.safetensors: tensor "model\.layers\.1\.mlp\.up_proj\.weight" has shape \[32,64\], expected \[64,32\]/,
    );
    writeSafetensors(
      join(good, 'model.safetensors'),
      model.table.entries
        .filter((e) => e.name !== 'model.norm.weight')
        .map((e) => ({
          name: e.name,
          shape: e.shape,
          data: model.params.subarray(e.offset, e.offset + e.size),
        })),
    );
    expect(() => loadModelFolder(good)).toThrow(/missing tensor "model\.norm\.weight"/);
  });
});
