/**
 * Writing a GGUF (version 3) file that llama.cpp loads: the architecture's hyper-parameters under
 * llama.cpp's key names, the tokenizer (gpt2-style BPE: tokens, token types, merges, special ids,
 * chat template) from the folder's tokenizer.json / tokenizer_config.json, and the weights under
 * llama.cpp's tensor names (token_embd, blk.N.attn_q, …), matrices F16 or F32, 1-D tensors F32
 * (as llama.cpp's own converter). For the llama family the q/k rows are permuted from HF's
 * rotate-half order to the interleaved order llama.cpp's rope expects; qwen2/qwen3 use the
 * NeoX rope in llama.cpp and need no permutation.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../core/errors.ts';
import type { Qwen3Config } from './config.ts';
import type { ParamTable } from './params.ts';

export type GgufDtype = 'f16' | 'f32';

const ALIGN = 32;
const T_UINT32 = 4;
const T_INT32 = 5;
const T_FLOAT32 = 6;
const T_BOOL = 7;
const T_STRING = 8;
const T_ARRAY = 9;
const GGML_F32 = 0;
const GGML_F16 = 1;

type KvValue =
  | { t: 'u32'; v: number }
  | { t: 'f32'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string }
  | { t: 'strs'; v: readonly string[] }
  | { t: 'i32s'; v: readonly number[] };

/** Growable little-endian byte buffer. */
class Bytes {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.room(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  pad(align: number): void {
    while (this.length % align !== 0) this.u8(0);
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeKv(b: Bytes, key: string, val: KvValue): void {
  b.str(key);
  switch (val.t) {
    case 'u32':
      b.u32(T_UINT32);
      b.u32(val.v);
      return;
    case 'f32':
      b.u32(T_FLOAT32);
      b.f32(val.v);
      return;
    case 'bool':
      b.u32(T_BOOL);
      b.u8(val.v ? 1 : 0);
      return;
    case 'str':
      b.u32(T_STRING);
      b.str(val.v);
      return;
    case 'strs':
      b.u32(T_ARRAY);
      b.u32(T_STRING);
      b.u64(val.v.length);
      for (const s of val.v) b.str(s);
      return;
    case 'i32s':
      b.u32(T_ARRAY);
      b.u32(T_INT32);
      b.u64(val.v.length);
      for (const x of val.v) b.i32(x);
      return;
  }
}

/** IEEE half from a float32 value, round to nearest even (overflow → ±inf). */
export function floatToHalf(f: number): number {
  const fb = new Float32Array([f]);
  const x = new Uint32Array(fb.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** llama.cpp's tensor name for an HF parameter name (null: not written). */
function ggufName(hf: string): string | null {
  if (hf === 'model.embed_tokens.weight') return 'token_embd.weight';
  if (hf === 'model.norm.weight') return 'output_norm.weight';
  if (hf === 'lm_head.weight') return 'output.weight';
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hf);
  if (!m) return null;
  const map: Record<string, string> = {
    'input_layernorm.weight': 'attn_norm.weight',
    'self_attn.q_proj.weight': 'attn_q.weight',
    'self_attn.k_proj.weight': 'attn_k.weight',
    'self_attn.v_proj.weight': 'attn_v.weight',
    'self_attn.o_proj.weight': 'attn_output.weight',
    'self_attn.q_proj.bias': 'attn_q.bias',
    'self_attn.k_proj.bias': 'attn_k.bias',
    'self_attn.v_proj.bias': 'attn_v.bias',
    'self_attn.q_norm.weight': 'attn_q_norm.weight',
    'self_attn.k_norm.weight': 'attn_k_norm.weight',
    'post_attention_layernorm.weight': 'ffn_norm.weight',
    'mlp.gate_proj.weight': 'ffn_gate.weight',
    'mlp.up_proj.weight': 'ffn_up.weight',
    'mlp.down_proj.weight': 'ffn_down.weight',
  };
  const t = map[m[2]];
  return t ? `blk.${m[1]}.${t}` : null;
}

/** HF rotate-half rows → llama.cpp interleaved rows, per head: new[h,i,j] = old[h,j,i]. */
function permuteRows(w: Float32Array, heads: number, cols: number): Float32Array {
  const rows = w.length / cols;
  const hd = rows / heads;
  const half = hd / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = h * hd + j * half + i;
        const to = h * hd + i * 2 + j;
        out.set(w.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

/** The tokenizer metadata llama.cpp needs, from an HF tokenizer folder. */
function tokenizerKvs(dir: string, c: Qwen3Config): [string, KvValue][] {
  const file = join(dir, 'tokenizer.json');
  if (!existsSync(file))
    throw new CheckpointError(`${file} is missing: a GGUF needs the tokenizer`);
  const tj = JSON.parse(readFileSync(file, 'utf8')) as {
    model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[] };
    added_tokens?: { id: number; content: string; special: boolean }[];
    pre_tokenizer?: unknown;
  };
  if (tj.model.type !== 'BPE') {
    throw new CheckpointError(`${file}: model.type ${tj.model.type}, only BPE exports to GGUF`);
  }
  const V = c.vocabSize;
  const tokens: string[] = Array.from({ length: V }, (_, i) => `[PAD${i}]`);
  const types: number[] = new Array<number>(V).fill(5);
  for (const [tok, id] of Object.entries(tj.model.vocab)) {
    if (id < V) {
      tokens[id] = tok;
      types[id] = 1;
    }
  }
  for (const a of tj.added_tokens ?? []) {
    if (a.id < V) {
      tokens[a.id] = a.content;
      types[a.id] = a.special ? 3 : 4;
    }
  }
  const merges = tj.model.merges.map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
  const pre = llamaCppPreName(tj.pre_tokenizer);
  const kvs: [string, KvValue][] = [
    ['tokenizer.ggml.model', { t: 'str', v: 'gpt2' }],
    ['tokenizer.ggml.pre', { t: 'str', v: pre }],
    ['tokenizer.ggml.tokens', { t: 'strs', v: tokens }],
    ['tokenizer.ggml.token_type', { t: 'i32s', v: types }],
    ['tokenizer.ggml.merges', { t: 'strs', v: merges }],
  ];
  if (c.bosTokenId !== null)
    kvs.push(['tokenizer.ggml.bos_token_id', { t: 'u32', v: c.bosTokenId }]);
  if (c.eosTokenIds.length > 0) {
    kvs.push(['tokenizer.ggml.eos_token_id', { t: 'u32', v: c.eosTokenIds[0] }]);
  }
  const tcFile = join(dir, 'tokenizer_config.json');
  if (existsSync(tcFile)) {
    const tc = JSON.parse(readFileSync(tcFile, 'utf8')) as {
      chat_template?: unknown;
      add_bos_token?: unknown;
    };
    if (typeof tc.chat_template === 'string') {
      kvs.push(['tokenizer.chat_template', { t: 'str', v: tc.chat_template }]);
    }
    kvs.push(['tokenizer.ggml.add_bos_token', { t: 'bool', v: tc.add_bos_token === true }]);
  }
  return kvs;
}

/** The weights to write. */
export interface GgufSource {
  readonly config: Qwen3Config;
  readonly table: ParamTable;
  readonly params: Float32Array;
  readonly tokenizerDir: string;
}

/**
 * Write `file` (GGUF v3). Matrices in `dtype`; norms and biases F32.
 * @throws CheckpointError when the tokenizer is missing or not BPE
 */
export function writeGguf(file: string, w: GgufSource, dtype: GgufDtype, name: string): void {
  const c = w.config;
  const arch = c.family;
  const kv: [string, KvValue][] = [
    ['general.architecture', { t: 'str', v: arch }],
    ['general.name', { t: 'str', v: name }],
    ['general.file_type', { t: 'u32', v: dtype === 'f16' ? 1 : 0 }],
    ['general.alignment', { t: 'u32', v: ALIGN }],
    [`${arch}.context_length`, { t: 'u32', v: c.maxPositions }],
    [`${arch}.embedding_length`, { t: 'u32', v: c.hiddenSize }],
    [`${arch}.block_count`, { t: 'u32', v: c.numLayers }],
    [`${arch}.feed_forward_length`, { t: 'u32', v: c.intermediateSize }],
    [`${arch}.attention.head_count`, { t: 'u32', v: c.numHeads }],
    [`${arch}.attention.head_count_kv`, { t: 'u32', v: c.numKvHeads }],
    [`${arch}.attention.key_length`, { t: 'u32', v: c.headDim }],
    [`${arch}.attention.value_length`, { t: 'u32', v: c.headDim }],
    [`${arch}.rope.dimension_count`, { t: 'u32', v: c.headDim }],
    [`${arch}.rope.freq_base`, { t: 'f32', v: c.ropeTheta }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { t: 'f32', v: c.rmsNormEps }],
    [`${arch}.vocab_size`, { t: 'u32', v: c.vocabSize }],
    ...tokenizerKvs(w.tokenizerDir, c),
  ];
  if (c.ropeScaling) {
    throw new CheckpointError(`rope_scaling is not exported to GGUF yet (model ${name})`);
  }
  const tensors: { name: string; dims: number[]; type: number; data: Float32Array }[] = [];
  for (const e of w.table.entries) {
    const gname = ggufName(e.name);
    if (!gname) throw new CheckpointError(`no GGUF name for tensor ${e.name}`);
    let data = w.params.subarray(e.offset, e.offset + e.size);
    if (arch === 'llama' && gname.endsWith('attn_q.weight')) {
      data = permuteRows(data, c.numHeads, e.shape[1]);
    } else if (arch === 'llama' && gname.endsWith('attn_k.weight')) {
      data = permuteRows(data, c.numKvHeads, e.shape[1]);
    }
    const matrix = e.shape.length === 2;
    tensors.push({
      name: gname,
      dims: [...e.shape].reverse(),
      type: matrix && dtype === 'f16' ? GGML_F16 : GGML_F32,
      data,
    });
  }
  const head = new Bytes();
  head.u32(0x46554747); // "GGUF"
  head.u32(3);
  head.u64(tensors.length);
  head.u64(kv.length);
  for (const [k, v] of kv) writeKv(head, k, v);
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    head.str(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(t.type);
    head.u64(offset);
    offsets.push(offset);
    const bytes = t.data.length * (t.type === GGML_F16 ? 2 : 4);
    offset += Math.ceil(bytes / ALIGN) * ALIGN;
  }
  head.pad(ALIGN);
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, head.bytes());
    for (const t of tensors) {
      const bytes = t.data.length * (t.type === GGML_F16 ? 2 : 4);
      const buf = Buffer.alloc(Math.ceil(bytes / ALIGN) * ALIGN);
      if (t.type === GGML_F16) {
        for (let i = 0; i < t.data.length; i++) buf.writeUInt16LE(floatToHalf(t.data[i]), 2 * i);
      } else {
        Buffer.from(t.data.buffer, t.data.byteOffset, bytes).copy(buf);
      }
      writeSync(fd, buf);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * llama.cpp picks its pre-tokenizer regex by name and refuses names it does not know (its GPT-2
 * entry is spelled "gpt-2"): Qwen2's split regex, SmolLM's single digits before GPT-2's byte-level
 * split, or GPT-2's alone.
 */
export function llamaCppPreName(preTokenizer: unknown): string {
  const text = JSON.stringify(preTokenizer ?? '');
  if (text.includes('(?:[sS]|[tT]|[rR][eE]')) return 'qwen2';
  if (/"individual_digits":\s*true/.test(text)) return 'smollm';
  return 'gpt-2';
}
