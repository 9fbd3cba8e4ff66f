/**
 * The peer section of `spell bench engine`: side-by-side figures from packages that are not
 * dependencies of spell (onnxruntime-node's matmul, TensorFlow.js wasm training), each measured
 * only when it imports and otherwise reported with the command that installs it.
 */
import type { MatmulResult } from '../matmul-bench.ts';
import type { ModelBenchReport } from '../model-bench.ts';
import { ONNX_INSTALL, runOnnxMatmulPeer } from './onnx-matmul.ts';
import type { OnnxMatmulReport } from './onnx-matmul.ts';
import type { PeerUnavailable } from './optional-import.ts';
import { TFJS_INSTALL, runTfjsTrainPeer } from './tfjs-train.ts';
import type { TfjsTrainReport } from './tfjs-train.ts';

export interface PeersReport {
  readonly onnxruntime: OnnxMatmulReport | PeerUnavailable;
  readonly tfjs: TfjsTrainReport | PeerUnavailable | { readonly skipped: string };
}

export interface PeersOptions {
  /** spell's matmul table: its large (non-model) native shapes are the peer's shapes. */
  readonly matmul: readonly MatmulResult[];
  readonly threads: readonly number[];
  /** spell's model section (the TF.js peer is skipped when it was skipped). */
  readonly model: ModelBenchReport | { readonly skipped: string };
  readonly budgetMs: number;
  /** Module names to import; only tests change them (to names that do not exist). */
  readonly specifiers?: {
    readonly onnxruntime: string;
    readonly tfjs: readonly [string, string];
  };
}

/** A peer that loaded but failed while running is reported, not allowed to sink the bench. */
async function orFailure<T>(install: string, run: () => Promise<T>): Promise<T | PeerUnavailable> {
  try {
    return await run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { available: false, install, reason: `failed while running: ${message}` };
  }
}

/** Run both peers one after the other (never concurrently: they would share the two cores). */
export async function runPeers(opts: PeersOptions): Promise<PeersReport> {
  const seen = new Set<string>();
  const shapes = opts.matmul
    .filter((r) => !r.name.startsWith('model') && !seen.has(r.name) && seen.add(r.name))
    .map(({ name, M, N, K }) => ({ name, M, N, K }));
  const onnxruntime = await orFailure(ONNX_INSTALL, () =>
    runOnnxMatmulPeer({
      shapes,
      threads: opts.threads,
      budgetMs: opts.budgetMs,
      spell: opts.matmul,
      specifier: opts.specifiers?.onnxruntime,
    }),
  );
  const model = opts.model;
  const tfjs =
    'results' in model
      ? await orFailure(TFJS_INSTALL, () =>
          runTfjsTrainPeer({
            config: model.config,
            workload: model.workload,
            budgetMs: opts.budgetMs,
            spell: model.results,
            specifiers: opts.specifiers?.tfjs,
          }),
        )
      : { skipped: 'the model section was skipped' };
  return { onnxruntime, tfjs };
}
