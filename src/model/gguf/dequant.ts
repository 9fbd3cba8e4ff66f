/**
 * Dequantisation of ggml tensor types to float32, block by block, following ggml's reference
 * `dequantize_row_*` (ggml-quants.c). Every product is rounded to float32 in the order ggml and
 * the `gguf` Python package compute it, so results equal theirs bit for bit (checked against
 * gguf.quants.dequantize in gguf.test.ts). Block layouts (bytes, little-endian):
 *   Q8_0 (32): f16 d, i8 q[32]                      x = d·q
 *   Q4_0 (32): f16 d, u8 qs[16]                     x = d·(q − 8), low nibbles first half
 *   Q4_1 (32): f16 d, f16 m, u8 qs[16]              x = d·q + m
 *   Q5_0 (32): f16 d, u32 qh, u8 qs[16]             x = d·((q | h<<4) − 16)
 *   Q5_1 (32): f16 d, f16 m, u32 qh, u8 qs[16]      x = d·(q | h<<4) + m
 *   Q4_K (256): f16 d, f16 dmin, u8 scales[12], u8 qs[128]            8 sub-blocks of 32
 *   Q5_K (256): f16 d, f16 dmin, u8 scales[12], u8 qh[32], u8 qs[128]
 *   Q6_K (256): u8 ql[128], u8 qh[64], i8 scales[16], f16 d           16 sub-blocks of 16
 */

/** One supported ggml type. */
export interface GgmlTypeInfo {
  readonly id: number;
  readonly name: GgmlTypeName;
  /** Elements per block, and bytes per block. */
  readonly blockSize: number;
  readonly blockBytes: number;
}

export type GgmlTypeName =
  'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1' | 'Q4_K' | 'Q5_K' | 'Q6_K';

const TYPES: readonly GgmlTypeInfo[] = [
  { id: 0, name: 'F32', blockSize: 1, blockBytes: 4 },
  { id: 1, name: 'F16', blockSize: 1, blockBytes: 2 },
  { id: 30, name: 'BF16', blockSize: 1, blockBytes: 2 },
  { id: 8, name: 'Q8_0', blockSize: 32, blockBytes: 34 },
  { id: 2, name: 'Q4_0', blockSize: 32, blockBytes: 18 },
  { id: 3, name: 'Q4_1', blockSize: 32, blockBytes: 20 },
  { id: 6, name: 'Q5_0', blockSize: 32, blockBytes: 22 },
  { id: 7, name: 'Q5_1', blockSize: 32, blockBytes: 24 },
  { id: 12, name: 'Q4_K', blockSize: 256, blockBytes: 144 },
  { id: 13, name: 'Q5_K', blockSize: 256, blockBytes: 176 },
  { id: 14, name: 'Q6_K', blockSize: 256, blockBytes: 210 },
];

/** The type with ggml id `id`, or undefined when spell cannot dequantise it. */
export function ggmlTypeInfo(id: number): GgmlTypeInfo | undefined {
  return TYPES.find((t) => t.id === id);
}

/** The type named `name` (F32, Q4_K, ...). */
export function ggmlTypeByName(name: GgmlTypeName): GgmlTypeInfo {
  const t = TYPES.find((x) => x.name === name);
  if (!t) throw new Error(`internal: unknown ggml type ${name}`);
  return t;
}

const f16Scratch = new Float32Array(1);
const u32View = new Uint32Array(f16Scratch.buffer);

/** IEEE half → float (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function bf16ToFloat(b: number): number {
  u32View[0] = b << 16;
  return f16Scratch[0];
}

const f = Math.fround;

/** Q4_K/Q5_K 6-bit scale and min of sub-block j from the 12 packed bytes at `q`. */
function scaleMin(bytes: Uint8Array, q: number, j: number): [number, number] {
  if (j < 4) return [bytes[q + j] & 63, bytes[q + j + 4] & 63];
  return [
    (bytes[q + j + 4] & 0xf) | ((bytes[q + j - 4] >> 6) << 4),
    (bytes[q + j + 4] >> 4) | ((bytes[q + j] >> 6) << 4),
  ];
}

/**
 * Dequantise `bytes` (whole blocks of `type`) into `out` (blocks × blockSize floats).
 * @throws Error when the sizes disagree (callers check tensor sizes first)
 */
export function dequantize(type: GgmlTypeInfo, bytes: Uint8Array, out: Float32Array): void {
  const nBlocks = out.length / type.blockSize;
  if (!Number.isInteger(nBlocks) || bytes.length < nBlocks * type.blockBytes) {
    throw new Error(`internal: ${type.name}: ${bytes.length} bytes for ${out.length} values`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const half = (o: number): number => halfToFloat(dv.getUint16(o, true));
  switch (type.name) {
    case 'F32':
      for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
      return;
    case 'F16':
      for (let i = 0; i < out.length; i++) out[i] = half(i * 2);
      return;
    case 'BF16':
      for (let i = 0; i < out.length; i++) out[i] = bf16ToFloat(dv.getUint16(i * 2, true));
      return;
    case 'Q8_0':
      for (let b = 0; b < nBlocks; b++) {
        const o = b * 34;
        const d = half(o);
        for (let j = 0; j < 32; j++) out[b * 32 + j] = f(d * dv.getInt8(o + 2 + j));
      }
      return;
    case 'Q4_0':
    case 'Q4_1':
      for (let b = 0; b < nBlocks; b++) {
        const o = b * type.blockBytes;
        const d = half(o);
        const hasMin = type.name === 'Q4_1';
        const m = hasMin ? half(o + 2) : 0;
        const qs = o + (hasMin ? 4 : 2);
        const y = b * 32;
        for (let j = 0; j < 16; j++) {
          const q = bytes[qs + j];
          if (hasMin) {
            out[y + j] = f(f(d * (q & 0xf)) + m);
            out[y + j + 16] = f(f(d * (q >> 4)) + m);
          } else {
            out[y + j] = f(d * ((q & 0xf) - 8));
            out[y + j + 16] = f(d * ((q >> 4) - 8));
          }
        }
      }
      return;
    case 'Q5_0':
    case 'Q5_1':
      for (let b = 0; b < nBlocks; b++) {
        const o = b * type.blockBytes;
        const d = half(o);
        const hasMin = type.name === 'Q5_1';
        const m = hasMin ? half(o + 2) : 0;
        const qhOff = o + (hasMin ? 4 : 2);
        const qh = dv.getUint32(qhOff, true);
        const qs = qhOff + 4;
        const y = b * 32;
        for (let j = 0; j < 16; j++) {
          const q = bytes[qs + j];
          const x0 = (q & 0xf) | (((qh >>> j) & 1) << 4);
          const x1 = (q >> 4) | (((qh >>> (j + 16)) & 1) << 4);
          if (hasMin) {
            out[y + j] = f(f(d * x0) + m);
            out[y + j + 16] = f(f(d * x1) + m);
          } else {
            out[y + j] = f(d * (x0 - 16));
            out[y + j + 16] = f(d * (x1 - 16));
          }
        }
      }
      return;
    case 'Q4_K':
    case 'Q5_K':
      for (let b = 0; b < nBlocks; b++) {
        const o = b * type.blockBytes;
        const d = half(o);
        const dmin = half(o + 2);
        const sc = o + 4;
        const five = type.name === 'Q5_K';
        const qh = o + 16;
        const qs = five ? o + 48 : o + 16;
        const y = b * 256;
        for (let s = 0; s < 4; s++) {
          // Sub-blocks 2s (low nibbles) and 2s+1 (high nibbles) share 32 bytes of qs.
          const [sc1, m1] = scaleMin(bytes, sc, 2 * s);
          const [sc2, m2] = scaleMin(bytes, sc, 2 * s + 1);
          const d1 = f(d * sc1);
          const dm1 = f(dmin * m1);
          const d2 = f(d * sc2);
          const dm2 = f(dmin * m2);
          for (let l = 0; l < 32; l++) {
            const q = bytes[qs + s * 32 + l];
            let lo = q & 0xf;
            let hi = q >> 4;
            if (five) {
              const h = bytes[qh + l];
              lo |= ((h >> (2 * s)) & 1) << 4;
              hi |= ((h >> (2 * s + 1)) & 1) << 4;
            }
            out[y + s * 64 + l] = f(f(d1 * lo) - dm1);
            out[y + s * 64 + 32 + l] = f(f(d2 * hi) - dm2);
          }
        }
      }
      return;
    case 'Q6_K':
      for (let b = 0; b < nBlocks; b++) {
        const o = b * 210;
        const d = half(o + 208);
        const y = b * 256;
        for (let h = 0; h < 2; h++) {
          const ql = o + h * 64;
          const qh = o + 128 + h * 32;
          const sc = o + 192 + h * 8;
          for (let l = 0; l < 32; l++) {
            const is = l >> 4;
            const hb = bytes[qh + l];
            const q1 = ((bytes[ql + l] & 0xf) | ((hb & 3) << 4)) - 32;
            const q2 = ((bytes[ql + l + 32] & 0xf) | (((hb >> 2) & 3) << 4)) - 32;
            const q3 = ((bytes[ql + l] >> 4) | (((hb >> 4) & 3) << 4)) - 32;
            const q4 = ((bytes[ql + l + 32] >> 4) | (((hb >> 6) & 3) << 4)) - 32;
            const s = (k: number): number => f(d * dv.getInt8(sc + is + k));
            out[y + h * 128 + l] = f(s(0) * q1);
            out[y + h * 128 + l + 32] = f(s(2) * q2);
            out[y + h * 128 + l + 64] = f(s(4) * q3);
            out[y + h * 128 + l + 96] = f(s(6) * q4);
          }
        }
      }
      return;
  }
}
