/**
 * The Tinker protobuf wire (SDK >= 0.25), beside the JSON one in wire.ts: the official SDK sends
 * `forward_backward` (and forward, as `forward_only`) as a protobuf `ForwardBackwardRequest`, and
 * on `retrieve_future` it asks with `Accept: application/x-protobuf` for `SampleResponse` and
 * `ForwardBackwardOutput` in protobuf — SDK 0.38 refuses a JSON payload for those two.
 *
 * The schema is the SDK's own (tinker_public.proto, written from the SDK's embedded descriptor by
 * peers/tinker/write_proto_schema.py); protobufjs encodes and decodes it. This module converts
 * between those messages and the JSON wire shapes of wire.ts, so the server and the client keep
 * one code path and only the bytes differ. Packed arrays are little-endian: tokens int32, tensors
 * in their dtype (float32, int64), batched-tensor offsets int64 byte offsets. No I/O but reading
 * the schema file once.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { DataError } from '../../core/errors.ts';
import type { ForwardBackwardOutputWire, SampleResultWire, TensorDataWire } from './wire.ts';

export const PROTO_CONTENT_TYPE = 'application/x-protobuf';

const root = protobuf.parse(
  readFileSync(new URL('./tinker_public.proto', import.meta.url), 'utf8'),
  { keepCase: true },
).root;
const T = {
  fbRequest: root.lookupType('tinker_public.ForwardBackwardRequest'),
  fbOutput: root.lookupType('tinker_public.ForwardBackwardOutput'),
  sample: root.lookupType('tinker_public.SampleResponse'),
};
const DTYPE = { FLOAT32: 1, INT64: 2, INT32: 3, BFLOAT16: 4 } as const;
const STOP_REASON = { stop: 0, length: 1 } as const;
/** The SDK's filler for an empty top-k cell (token 0, this logprob). */
const MASK_LOGPROB = -99999;

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: Number,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
};

// ---------------------------------------------------------------------------------------------
// Little-endian packed arrays

function readInt32s(b: Uint8Array, field: string): number[] {
  if (b.byteLength % 4 !== 0) {
    throw new DataError(`${field} holds ${b.byteLength} bytes, not a whole number of int32`, {
      field,
    });
  }
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.byteLength / 4 }, (_, i) => v.getInt32(4 * i, true));
}

function readInt64s(b: Uint8Array, field: string): number[] {
  if (b.byteLength % 8 !== 0) {
    throw new DataError(`${field} holds ${b.byteLength} bytes, not a whole number of int64`, {
      field,
    });
  }
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.byteLength / 8 }, (_, i) => {
    const x = v.getBigInt64(8 * i, true);
    if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new DataError(`${field}[${i}] = ${x} does not fit a JavaScript number`, { field });
    }
    return Number(x);
  });
}

function readFloat32s(b: Uint8Array, field: string): number[] {
  if (b.byteLength % 4 !== 0) {
    throw new DataError(`${field} holds ${b.byteLength} bytes, not a whole number of float32`, {
      field,
    });
  }
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.byteLength / 4 }, (_, i) => v.getFloat32(4 * i, true));
}

function int32Bytes(values: readonly number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((x, i) => b.writeInt32LE(x, 4 * i));
  return b;
}

function int64Bytes(values: readonly number[]): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((x, i) => b.writeBigInt64LE(BigInt(Math.trunc(x)), 8 * i));
  return b;
}

function float32Bytes(values: readonly (number | null)[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((x, i) => b.writeFloatLE(x ?? Number.NaN, 4 * i));
  return b;
}

// ---------------------------------------------------------------------------------------------
// Decoded message shapes (what protobufjs' toObject gives with TO_OBJECT)

interface TensorMsg {
  dense?: Buffer;
  sparse_csr?: unknown;
  dtype: number;
  shape: number[];
}
interface ChunkMsg {
  encoded_text?: { tokens: Buffer };
  image?: unknown;
  dmel?: unknown;
}
interface DatumMsg {
  model_input: ChunkMsg[];
  loss_fn_inputs: Record<string, TensorMsg>;
}
interface FbRequestMsg {
  model_id: string;
  seq_id: number;
  data: DatumMsg[];
  loss_fn: string;
  loss_fn_config: Record<string, number>;
  loss_fn_config_v2: Record<string, { number?: number; text?: string }>;
  forward_only: boolean;
}

function tensorFromProto(t: TensorMsg, field: string): TensorDataWire {
  if (t.sparse_csr !== undefined && t.sparse_csr !== null) {
    throw new DataError(`${field} is a sparse tensor; only dense 1-D tensors are supported`, {
      field,
    });
  }
  const bytes = t.dense ?? Buffer.alloc(0);
  let data: number[];
  let dtype: 'int64' | 'float32';
  if (t.dtype === DTYPE.FLOAT32) [data, dtype] = [readFloat32s(bytes, field), 'float32'];
  else if (t.dtype === DTYPE.INT64) [data, dtype] = [readInt64s(bytes, field), 'int64'];
  else if (t.dtype === DTYPE.INT32) [data, dtype] = [readInt32s(bytes, field), 'int64'];
  else {
    throw new DataError(`${field} has protobuf dtype ${t.dtype}; expected FLOAT32 or INT64`, {
      field,
    });
  }
  return { data, dtype, ...(t.shape.length > 0 ? { shape: t.shape } : {}) };
}

/** A forward/forward_backward request in the JSON wire shape, whichever encoding it came in. */
export interface DecodedForwardBackward {
  /** `forward_only` was set: a forward pass, no gradient. */
  readonly forwardOnly: boolean;
  /** The body as the JSON route would have received it (`forward_input` when forwardOnly). */
  readonly body: Record<string, unknown>;
}

/**
 * Decode a protobuf `ForwardBackwardRequest` into the JSON wire body.
 * @throws DataError for undecodable bytes or chunks/tensors spell does not take.
 */
export function decodeForwardBackwardRequest(bytes: Uint8Array): DecodedForwardBackward {
  let msg: FbRequestMsg;
  try {
    msg = T.fbRequest.toObject(T.fbRequest.decode(bytes), TO_OBJECT) as FbRequestMsg;
  } catch (err) {
    throw new DataError(
      `forward_backward: the protobuf body is not a tinker_public.ForwardBackwardRequest (${(err as Error).message})`,
      { field: 'body' },
    );
  }
  const data = msg.data.map((d, i) => ({
    model_input: {
      chunks: d.model_input.map((c, j) => {
        if (!c.encoded_text) {
          throw new DataError(
            `data[${i}].model_input[${j}] is not an encoded_text chunk; only token chunks are supported`,
            { field: `data[${i}].model_input[${j}]` },
          );
        }
        return {
          type: 'encoded_text',
          tokens: readInt32s(c.encoded_text.tokens, `data[${i}].model_input[${j}].tokens`),
        };
      }),
    },
    loss_fn_inputs: Object.fromEntries(
      Object.entries(d.loss_fn_inputs).map(([k, t]) => [
        k,
        tensorFromProto(t, `data[${i}].loss_fn_inputs.${k}`),
      ]),
    ),
  }));
  // v2 config (numbers or strings) wins where set, as the SDK's comment says servers should.
  const config: Record<string, number> = { ...msg.loss_fn_config };
  for (const [k, v] of Object.entries(msg.loss_fn_config_v2)) {
    if (v.text !== undefined && v.text !== '') {
      throw new DataError(`loss_fn_config.${k} is a string ('${v.text}'); spell takes numbers`, {
        field: `loss_fn_config.${k}`,
      });
    }
    if (v.number !== undefined) config[k] = v.number;
  }
  const input = {
    data,
    loss_fn: msg.loss_fn,
    ...(Object.keys(config).length > 0 ? { loss_fn_config: config } : {}),
  };
  return {
    forwardOnly: msg.forward_only,
    body: {
      model_id: msg.model_id,
      ...(msg.seq_id > 0 ? { seq_id: msg.seq_id } : {}),
      [msg.forward_only ? 'forward_input' : 'forward_backward_input']: input,
    },
  };
}

/** Encode a forward/forward_backward input as a protobuf `ForwardBackwardRequest`. */
export function encodeForwardBackwardRequest(
  ids: { model_id: string; seq_id: number },
  input: ForwardInput,
  forwardOnly: boolean,
): Uint8Array {
  const body = ids;
  const config = input.loss_fn_config ?? {};
  const msg = T.fbRequest.fromObject({
    model_id: body.model_id,
    seq_id: body.seq_id,
    loss_fn: input.loss_fn,
    forward_only: forwardOnly,
    loss_fn_config: config,
    loss_fn_config_v2: Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k, { number: v }]),
    ),
    data: input.data.map((d) => ({
      model_input: d.model_input.chunks.map((c) => ({
        encoded_text: { tokens: int32Bytes(c.tokens ?? []) },
      })),
      loss_fn_inputs: Object.fromEntries(
        Object.entries(d.loss_fn_inputs).map(([k, t]) => [
          k,
          {
            dense: t.dtype === 'int64' ? int64Bytes(t.data) : float32Bytes(t.data),
            dtype: t.dtype === 'int64' ? DTYPE.INT64 : DTYPE.FLOAT32,
            shape: t.shape ?? [t.data.length],
          },
        ]),
      ),
    })),
  });
  return T.fbRequest.encode(msg).finish();
}

interface ForwardInput {
  data: {
    model_input: { chunks: { tokens?: number[] }[] };
    loss_fn_inputs: Record<string, TensorDataWire>;
  }[];
  loss_fn: string;
  loss_fn_config?: Record<string, number> | null;
}

// ---------------------------------------------------------------------------------------------
// Results

/** JSON-wire result of a sample, with the optional top-k fields spell serve fills. */
export interface SampleResultOut {
  sequences: {
    tokens: number[];
    logprobs: number[];
    stop_reason: 'stop' | 'length';
    topk_logprobs?: ([number, number][] | null)[] | null;
  }[];
  prompt_logprobs?: (number | null)[] | null;
  topk_prompt_logprobs?: ([number, number][] | null)[] | null;
}

function topkMatrix(rows: readonly ([number, number][] | null)[]): {
  token_ids: Buffer;
  logprobs: Buffer;
  k: number;
  length: number;
} {
  const k = rows.reduce((m, r) => Math.max(m, r?.length ?? 0), 0);
  const ids: number[] = [];
  const lps: number[] = [];
  for (const r of rows) {
    for (let j = 0; j < k; j++) {
      const cell = r?.[j];
      ids.push(cell ? cell[0] : 0);
      lps.push(cell ? cell[1] : MASK_LOGPROB);
    }
  }
  return { token_ids: int32Bytes(ids), logprobs: float32Bytes(lps), k, length: rows.length };
}

/** Encode a sample result as a protobuf `SampleResponse`. */
export function encodeSampleResponse(r: SampleResultOut): Uint8Array {
  const obj: Record<string, unknown> = {
    sequences: r.sequences.map((s) => ({
      stop_reason: STOP_REASON[s.stop_reason],
      tokens: int32Bytes(s.tokens),
      logprobs: float32Bytes(s.logprobs),
      ...(s.topk_logprobs ? { topk_sampled_logprobs: topkMatrix(s.topk_logprobs) } : {}),
    })),
    prompt_cache_hit_tokens: 0,
  };
  if (r.prompt_logprobs) obj.prompt_logprobs = float32Bytes(r.prompt_logprobs);
  if (r.topk_prompt_logprobs) obj.topk_prompt_logprobs = topkMatrix(r.topk_prompt_logprobs);
  return T.sample.encode(T.sample.fromObject(obj)).finish();
}

interface TopkMsg {
  token_ids: Buffer;
  logprobs: Buffer;
  k: number;
  length: number;
}

function topkRows(m: TopkMsg | undefined | null): ([number, number][] | null)[] | null {
  if (!m || m.length === 0 || m.k === 0) return null;
  const ids = readInt32s(m.token_ids, 'topk.token_ids');
  const lps = readFloat32s(m.logprobs, 'topk.logprobs');
  const rows: ([number, number][] | null)[] = [];
  for (let i = 0; i < m.length; i++) {
    const row: [number, number][] = [];
    for (let j = 0; j < m.k; j++) {
      const id = ids[i * m.k + j];
      const lp = lps[i * m.k + j];
      if (!(id === 0 && lp === MASK_LOGPROB)) row.push([id, lp]);
    }
    rows.push(row.length > 0 ? row : null);
  }
  return rows;
}

/** Decode a protobuf `SampleResponse` into the JSON wire shape. */
export function decodeSampleResponse(bytes: Uint8Array): SampleResultWire {
  const m = T.sample.toObject(T.sample.decode(bytes), { ...TO_OBJECT, defaults: false }) as {
    sequences?: { stop_reason?: number; tokens?: Buffer; logprobs?: Buffer }[];
    prompt_logprobs?: Buffer;
    topk_prompt_logprobs?: TopkMsg;
  };
  const prompt = m.prompt_logprobs
    ? readFloat32s(m.prompt_logprobs, 'prompt_logprobs').map((x) => (Number.isNaN(x) ? null : x))
    : null;
  return {
    sequences: (m.sequences ?? []).map((s) => ({
      tokens: s.tokens ? readInt32s(s.tokens, 'sequences.tokens') : [],
      ...(s.logprobs ? { logprobs: readFloat32s(s.logprobs, 'sequences.logprobs') } : {}),
      stop_reason: (s.stop_reason ?? 0) === STOP_REASON.length ? 'length' : 'stop',
    })),
    prompt_logprobs: prompt,
    topk_prompt_logprobs: topkRows(m.topk_prompt_logprobs),
  };
}

/** Encode a forward/backward result as a protobuf `ForwardBackwardOutput` (one batched record). */
export function encodeForwardBackwardOutput(out: ForwardBackwardOutputWire): Uint8Array {
  const fields = new Map<string, { data: number[]; offsets: number[]; dtype: string }>();
  out.loss_fn_outputs.forEach((rec, i) => {
    for (const [name, t] of Object.entries(rec)) {
      let f = fields.get(name);
      if (!f) {
        if (i > 0)
          throw new DataError(`loss_fn_outputs[${i}] adds field '${name}'`, { field: name });
        f = { data: [], offsets: [0], dtype: t.dtype };
        fields.set(name, f);
      }
      f.data.push(...t.data);
      f.offsets.push(f.data.length * (t.dtype === 'int64' ? 8 : 4));
    }
  });
  const msg = T.fbOutput.fromObject({
    loss_fn_output_type: out.loss_fn_output_type ?? 'ArrayRecord',
    metrics: out.metrics ?? {},
    loss_fn_outputs:
      out.loss_fn_outputs.length === 0
        ? []
        : [
            {
              type_tag: out.loss_fn_output_type ?? 'ArrayRecord',
              num_datums: out.loss_fn_outputs.length,
              fields: Object.fromEntries(
                [...fields].map(([name, f]) => [
                  name,
                  {
                    data: f.dtype === 'int64' ? int64Bytes(f.data) : float32Bytes(f.data),
                    offsets: int64Bytes(f.offsets),
                    dtype: f.dtype === 'int64' ? DTYPE.INT64 : DTYPE.FLOAT32,
                    trailing_shape: [],
                  },
                ]),
              ),
            },
          ],
  });
  return T.fbOutput.encode(msg).finish();
}

/** Decode a protobuf `ForwardBackwardOutput` into the JSON wire shape (dense 1-D per datum). */
export function decodeForwardBackwardOutput(bytes: Uint8Array): ForwardBackwardOutputWire {
  const m = T.fbOutput.toObject(T.fbOutput.decode(bytes), TO_OBJECT) as {
    loss_fn_output_type: string;
    metrics: Record<string, number>;
    loss_fn_outputs: {
      num_datums: number;
      fields: Record<string, { data: Buffer; offsets: Buffer; dtype: number }>;
    }[];
  };
  const outputs: Record<string, TensorDataWire>[] = [];
  for (const rec of m.loss_fn_outputs) {
    const start = outputs.length;
    for (let i = 0; i < rec.num_datums; i++) outputs.push({});
    for (const [name, bt] of Object.entries(rec.fields)) {
      const isInt = bt.dtype === DTYPE.INT64 || bt.dtype === DTYPE.INT32;
      const size = bt.dtype === DTYPE.INT64 ? 8 : 4;
      const values =
        bt.dtype === DTYPE.INT64
          ? readInt64s(bt.data, name)
          : bt.dtype === DTYPE.INT32
            ? readInt32s(bt.data, name)
            : readFloat32s(bt.data, name);
      const offsets = readInt64s(bt.offsets, `${name}.offsets`);
      for (let i = 0; i + 1 < offsets.length; i++) {
        const data = values.slice(offsets[i] / size, offsets[i + 1] / size);
        outputs[start + i] ??= {};
        outputs[start + i][name] = { data, dtype: isInt ? 'int64' : 'float32' };
      }
    }
  }
  return {
    loss_fn_output_type: m.loss_fn_output_type.split(':').pop() ?? 'ArrayRecord',
    loss_fn_outputs: outputs,
    metrics: m.metrics,
  };
}

/** Which protobuf result a JSON-wire result object is, if any (by its keys). */
export function protoResultKind(result: unknown): 'sample' | 'forward_backward' | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  if ('sequences' in result) return 'sample';
  if ('loss_fn_outputs' in result) return 'forward_backward';
  return undefined;
}
