// The protobuf writer and the ONNX messages it builds, checked byte for byte against hand-encoded
// literals (wire format: tag = field·8 + wire type, base-128 varints, length-prefixed payloads),
// and the whole MatMul model walked back with a tiny wire-format reader.
import { describe, expect, test } from 'vitest';
import {
  ProtoWriter,
  encodeOnnxModel,
  matmulModel,
  writeNode,
  writeTensorShape,
  writeValueInfo,
} from './onnx-proto.ts';

const bytes = (build: (w: ProtoWriter) => void): number[] => {
  const w = new ProtoWriter();
  build(w);
  return [...w.finish()];
};
const ascii = (s: string): number[] => [...s].map((ch) => ch.charCodeAt(0));

/** Splits one message into [field, wire, value] triples (value: number or payload bytes). */
function readFields(buf: Uint8Array): [number, number, number | Uint8Array][] {
  const out: [number, number, number | Uint8Array][] = [];
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[pos++];
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return v;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const wire = tag % 8;
    if (wire === 0) out.push([tag >> 3, wire, varint()]);
    else {
      const len = varint();
      out.push([tag >> 3, wire, buf.subarray(pos, pos + len)]);
      pos += len;
    }
  }
  return out;
}
const text = (v: number | Uint8Array): string => new TextDecoder().decode(v as Uint8Array);
const sub = (fields: [number, number, number | Uint8Array][], field: number): Uint8Array[] =>
  fields.filter((f) => f[0] === field).map((f) => f[2] as Uint8Array);

describe('ProtoWriter', () => {
  test('varints: 1 byte below 128, little-endian 7-bit groups above, exact past 2^32', () => {
    expect(bytes((w) => w.varint(1, 0))).toEqual([0x08, 0x00]);
    expect(bytes((w) => w.varint(1, 127))).toEqual([0x08, 0x7f]);
    expect(bytes((w) => w.varint(1, 300))).toEqual([0x08, 0xac, 0x02]);
    expect(bytes((w) => w.varint(2, 2 ** 35))).toEqual([0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    // Field 20 needs a two-byte tag: 20·8 + 0 = 160 = 0xa0 0x01.
    expect(bytes((w) => w.varint(20, 1))).toEqual([0xa0, 0x01, 0x01]);
  });

  test('strings and nested messages are length-prefixed (wire type 2)', () => {
    expect(bytes((w) => w.string(4, 'MatMul'))).toEqual([0x22, 0x06, ...ascii('MatMul')]);
    expect(bytes((w) => w.message(8, (m) => m.varint(2, 13)))).toEqual([0x42, 0x02, 0x10, 0x0d]);
    expect(bytes((w) => w.string(2, ''))).toEqual([0x12, 0x00]);
  });

  test('rejects negative and fractional varints', () => {
    expect(() => new ProtoWriter().varint(1, -1)).toThrow(/non-negative safe integer/);
    expect(() => new ProtoWriter().varint(1, 1.5)).toThrow(/got 1.5/);
  });
});

describe('ONNX messages', () => {
  test('TensorShapeProto [2, 300] = two Dimension messages holding dim_value', () => {
    expect(bytes((w) => writeTensorShape(w, [2, 300]))).toEqual([
      0x0a, 0x02, 0x08, 0x02, 0x0a, 0x03, 0x08, 0xac, 0x02,
    ]);
  });

  test('ValueInfoProto "A" float [3]: name, then type.tensor_type{elem_type, shape}', () => {
    expect(bytes((w) => writeValueInfo(w, { name: 'A', elemType: 1, dims: [3] }))).toEqual([
      ...[0x0a, 0x01, 0x41], // name (1) = "A"
      ...[0x12, 0x0a], // type (2): 10 bytes
      ...[0x0a, 0x08], // tensor_type (1): 8 bytes
      ...[0x08, 0x01], // elem_type (1) = FLOAT
      ...[0x12, 0x04], // shape (2): 4 bytes
      ...[0x0a, 0x02, 0x08, 0x03], // dim (1) { dim_value (1) = 3 }
    ]);
  });

  test('NodeProto MatMul(A, B) → Y named mm', () => {
    expect(
      bytes((w) =>
        writeNode(w, { opType: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'], name: 'mm' }),
      ),
    ).toEqual([
      ...[0x0a, 0x01, 0x41], // input (1) = "A"
      ...[0x0a, 0x01, 0x42], // input (1) = "B"
      ...[0x12, 0x01, 0x59], // output (2) = "Y"
      ...[0x1a, 0x02, 0x6d, 0x6d], // name (3) = "mm"
      ...[0x22, 0x06, ...ascii('MatMul')], // op_type (4)
    ]);
  });

  test('a minimal ModelProto: ir_version, producer, empty graph, opset_import', () => {
    const m = encodeOnnxModel({
      irVersion: 7,
      opset: 13,
      producerName: 'p',
      graph: { name: 'g', nodes: [], inputs: [], outputs: [] },
    });
    expect([...m]).toEqual([
      0x08, 0x07, 0x12, 0x01, 0x70, 0x3a, 0x03, 0x12, 0x01, 0x67, 0x42, 0x02, 0x10, 0x0d,
    ]);
  });

  test('matmulModel reads back as one MatMul node over A (M,K), B (K,N) → Y (M,N)', () => {
    const model = readFields(matmulModel(64, 1024, 4096));
    expect(model[0]).toEqual([1, 0, 7]);
    expect(readFields(sub(model, 8)[0])).toEqual([[2, 0, 13]]);
    const graph = readFields(sub(model, 7)[0]);
    const node = readFields(sub(graph, 1)[0]);
    expect(text(sub(node, 4)[0])).toBe('MatMul');
    expect(sub(node, 1).map(text)).toEqual(['A', 'B']);
    const dimsOf = (vi: Uint8Array): [string, number[]] => {
      const f = readFields(vi);
      const tensor = readFields(sub(readFields(sub(f, 2)[0]), 1)[0]);
      expect(tensor[0]).toEqual([1, 0, 1]);
      const dims = sub(readFields(sub(tensor, 2)[0]), 1).map((d) => readFields(d)[0][2] as number);
      return [text(sub(f, 1)[0]), dims];
    };
    expect(sub(graph, 11).map(dimsOf)).toEqual([
      ['A', [64, 4096]],
      ['B', [4096, 1024]],
    ]);
    expect(sub(graph, 12).map(dimsOf)).toEqual([['Y', [64, 1024]]]);
  });
});
