/**
 * A minimal protobuf writer and the few ONNX messages needed to describe a one-node MatMul model,
 * so the onnxruntime peer benchmark can build its model in memory without the `onnx` Python
 * package or a protobuf dependency. Only what the bench needs is encoded: varints and
 * length-delimited fields (strings, bytes, nested messages). Field numbers follow onnx.proto
 * (ModelProto, GraphProto, NodeProto, ValueInfoProto, TypeProto, TensorShapeProto,
 * OperatorSetIdProto). Pure and synchronous.
 */

/** Protobuf wire types used here. */
const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** ONNX TensorProto.DataType.FLOAT. */
export const ONNX_FLOAT = 1;

/** Appends protobuf fields to a growing byte list; `finish()` returns the encoded message. */
export class ProtoWriter {
  private readonly bytes: number[] = [];

  /** A raw base-128 varint (non-negative integers up to 2^53). */
  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`protobuf varint: expected a non-negative safe integer, got ${value}`);
    }
    // Division instead of >>> so values above 2^32 (int64 fields) stay exact.
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** An integer field (int32 / int64 / enum, non-negative). */
  varint(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  /** A length-delimited field holding raw bytes (also used for nested messages). */
  bytesField(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(value.length);
    for (const b of value) this.bytes.push(b);
    return this;
  }

  /** A UTF-8 string field. */
  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  /** A nested message field, encoded by `build` into a fresh writer. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A graph input or output: a float tensor of fixed shape. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: number;
  readonly dims: readonly number[];
}

export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  readonly irVersion: number;
  /** Version of the default ("ai.onnx") operator set. */
  readonly opset: number;
  readonly producerName: string;
  readonly graph: OnnxGraph;
}

/** TensorShapeProto: `dim` (1) repeated Dimension { dim_value (1) }. */
export function writeTensorShape(w: ProtoWriter, dims: readonly number[]): void {
  for (const d of dims) w.message(1, (dim) => dim.varint(1, d));
}

/** ValueInfoProto: name (1), type (2) = TypeProto { tensor_type (1) { elem_type (1), shape (2) } }. */
export function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, v.elemType);
      tensor.message(2, (shape) => writeTensorShape(shape, v.dims));
    }),
  );
}

/** NodeProto: input (1), output (2), name (3), op_type (4). */
export function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
}

/** GraphProto: node (1), name (2), input (11), output (12). */
export function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.message(1, (node) => writeNode(node, n));
  w.string(2, g.name);
  for (const v of g.inputs) w.message(11, (vi) => writeValueInfo(vi, v));
  for (const v of g.outputs) w.message(12, (vi) => writeValueInfo(vi, v));
}

/**
 * ModelProto: ir_version (1), producer_name (2), graph (7), opset_import (8) =
 * OperatorSetIdProto { version (2) } with the default domain left empty.
 */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, m.irVersion);
  w.string(2, m.producerName);
  w.message(7, (graph) => writeGraph(graph, m.graph));
  w.message(8, (opset) => opset.varint(2, m.opset));
  return w.finish();
}

/**
 * The bench's one-node model: Y (M×N) = MatMul(A (M×K), B (K×N)), float32, opset 13 (IR
 * version 7). Both operands are graph inputs, not initializers, so the runtime cannot pre-pack
 * B once and reuse it — the same per-call work spell's gemm does.
 */
export function matmulModel(M: number, N: number, K: number): Uint8Array {
  return encodeOnnxModel({
    irVersion: 7,
    opset: 13,
    producerName: 'spell-bench',
    graph: {
      name: 'matmul',
      nodes: [{ opType: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'], name: 'mm' }],
      inputs: [
        { name: 'A', elemType: ONNX_FLOAT, dims: [M, K] },
        { name: 'B', elemType: ONNX_FLOAT, dims: [K, N] },
      ],
      outputs: [{ name: 'Y', elemType: ONNX_FLOAT, dims: [M, N] }],
    },
  });
}
