/**
 * Peer: onnxruntime-node's MatMul (MLAS kernels, inference only) on the same large shapes as
 * spell's native matmul table, at 1 and 2 intra-op threads. The model is a one-node ONNX graph
 * built in memory (onnx-proto.ts). Loaded only if installed; otherwise the report says how to
 * install it. Only the small part of the onnxruntime API the bench uses is typed here.
 */
import { Rng } from '../../core/index.ts';
import type { MatmulResult } from '../matmul-bench.ts';
import { sig } from '../timing.ts';
import { matmulModel } from './onnx-proto.ts';
import { hasFunctions, importOptional, timeRunsAsync } from './optional-import.ts';
import type { PeerUnavailable } from './optional-import.ts';

export const ONNX_PACKAGE = 'onnxruntime-node';
/** The skip flag stops the postinstall from fetching the CUDA add-on from nuget (no internet). */
export const ONNX_INSTALL =
  'ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node@1';

interface OrtTensor {
  readonly data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor | undefined>>;
  release(): Promise<void>;
}
interface OrtSessionOptions {
  readonly intraOpNumThreads: number;
  readonly interOpNumThreads: number;
  readonly executionMode: 'sequential';
  readonly graphOptimizationLevel: 'all';
  readonly logSeverityLevel: 3;
}
interface OrtModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession>;
  };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  readonly env?: { readonly versions?: Readonly<Record<string, string>> };
}

/** One timed (shape, threads) cell of the peer, with spell's native figure beside it. */
export interface OnnxMatmulCell {
  readonly name: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly threads: number;
  readonly gflops: number;
  readonly medianGflops: number;
  readonly runs: number;
  /** Largest |Y − reference| over the top-left (≤ 8×8) corner, reference in float64. */
  readonly maxAbsErr: number;
  /** spell's native gemm on the same shape and thread count (null when not in the table). */
  readonly spellGflops: number | null;
  /** spellGflops / gflops: above 1 means spell is faster. */
  readonly spellToPeer: number | null;
}

export interface OnnxMatmulReport {
  readonly available: true;
  readonly package: string;
  readonly version: string;
  readonly opset: number;
  readonly results: OnnxMatmulCell[];
  readonly note: string;
}

export interface OnnxMatmulOptions {
  /** The shapes to time (taken from spell's table so both sides see the same products). */
  readonly shapes: readonly { name: string; M: number; N: number; K: number }[];
  readonly threads: readonly number[];
  readonly budgetMs: number;
  /** spell's matmul table, for the ratios. */
  readonly spell: readonly MatmulResult[];
  /** Module to import; only tests change it (to a name that does not exist). */
  readonly specifier?: string;
}

function isOrtModule(m: unknown): m is OrtModule {
  if (typeof m !== 'object' || m === null) return false;
  const rec = m as Record<string, unknown>;
  return typeof rec.Tensor === 'function' && hasFunctions(rec.InferenceSession, ['create']);
}

function cornerError(
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  Y: Float32Array,
): number {
  let worst = 0;
  for (let i = 0; i < Math.min(8, M); i++) {
    for (let j = 0; j < Math.min(8, N); j++) {
      let ref = 0;
      for (let k = 0; k < K; k++) ref += A[i * K + k] * B[k * N + j];
      worst = Math.max(worst, Math.abs(Y[i * N + j] - ref));
    }
  }
  return worst;
}

/** Time onnxruntime's MatMul on each shape × thread count; unavailable when not installed. */
export async function runOnnxMatmulPeer(
  opts: OnnxMatmulOptions,
): Promise<OnnxMatmulReport | PeerUnavailable> {
  const loaded = await importOptional(opts.specifier ?? ONNX_PACKAGE);
  if (!loaded.ok) return { available: false, install: ONNX_INSTALL, reason: loaded.reason };
  if (!isOrtModule(loaded.module)) {
    return {
      available: false,
      install: ONNX_INSTALL,
      reason: `${ONNX_PACKAGE} loaded but has no InferenceSession/Tensor exports`,
    };
  }
  const ort = loaded.module;
  const rng = new Rng(42);
  const results: OnnxMatmulCell[] = [];
  for (const s of opts.shapes) {
    // A (M, K) and B (K, N) row-major: ONNX MatMul has no transpose flags, so every shape is
    // given to the peer in plain layout whatever transposition spell's row used.
    const A = Float32Array.from({ length: s.M * s.K }, () => rng.next() * 2 - 1);
    const B = Float32Array.from({ length: s.K * s.N }, () => rng.next() * 2 - 1);
    const feeds = {
      A: new ort.Tensor('float32', A, [s.M, s.K]),
      B: new ort.Tensor('float32', B, [s.K, s.N]),
    };
    const model = matmulModel(s.M, s.N, s.K);
    const flops = 2 * s.M * s.N * s.K;
    for (const threads of opts.threads) {
      const session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
      let Y: Float32Array = new Float32Array(0);
      try {
        const t = await timeRunsAsync(
          async () => {
            const out = (await session.run(feeds)).Y;
            if (out?.data instanceof Float32Array) Y = out.data;
          },
          opts.budgetMs,
          1,
          1000,
        );
        const gflops = flops / t.best / 1e9;
        const spell = opts.spell.find(
          (r) => r.backend === 'native' && r.threads === threads && r.name === s.name,
        );
        results.push({
          name: s.name,
          M: s.M,
          N: s.N,
          K: s.K,
          threads,
          gflops: sig(gflops),
          medianGflops: sig(flops / t.median / 1e9),
          runs: t.runs,
          maxAbsErr: Y.length === s.M * s.N ? sig(cornerError(s.M, s.N, s.K, A, B, Y), 2) : NaN,
          spellGflops: spell ? spell.gflops : null,
          spellToPeer: spell ? sig(spell.gflops / gflops) : null,
        });
      } finally {
        await session.release();
      }
    }
  }
  return {
    available: true,
    package: ONNX_PACKAGE,
    version: ort.env?.versions?.node ?? ort.env?.versions?.common ?? 'unknown',
    opset: 13,
    results,
    note:
      'onnxruntime MatMul (MLAS), both operands as graph inputs (no pre-packing), plain row-major layout; ' +
      'each run includes session.run overhead (tensor wrapping, output allocation)',
  };
}
