/**
 * `spell bench engine`: one report combining the matmul figures (per backend and thread count,
 * with peak ratios) and the embedded model's forward / training / sampling throughput. Pure
 * measurement; printing and flag parsing live in src/cli/commands/bench.ts.
 */
import { cpus } from 'node:os';
import { gemmBackend, nativeGemmStatus } from '../model/kernels/gemm.ts';
import type { GemmBackend } from '../model/kernels/gemm.ts';
import {
  LARGE_SHAPES,
  PEAK_GFLOPS_PER_CORE,
  PEAK_GFLOPS_TWO_CORES,
  runMatmulBench,
} from './matmul-bench.ts';
import type { MatmulResult, MatmulShape } from './matmul-bench.ts';
import { BENCH_MODEL_CONFIG, DEFAULT_WORKLOAD, runModelBench } from './model-bench.ts';
import type { ModelBenchReport, ModelWorkload } from './model-bench.ts';
import { runPeers } from './peers/index.ts';
import type { PeersReport } from './peers/index.ts';

export interface EngineBenchOptions {
  /** Backends to time; 'native' is dropped (with a note) when the addon is unavailable. */
  readonly backends: readonly GemmBackend[];
  /** Native thread counts for the matmul table; the model runs with the largest. */
  readonly threads: readonly number[];
  /** Smaller shapes and budgets: a smoke run of every section in a few seconds. */
  readonly quick: boolean;
  readonly includeModel: boolean;
}

export interface EngineBenchReport {
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string };
  readonly gemm: {
    readonly defaultBackend: GemmBackend;
    readonly native: Readonly<Record<string, string | number | boolean>>;
  };
  readonly peak: { readonly perCoreGflops: number; readonly twoCoreGflops: number };
  readonly matmul: MatmulResult[];
  /** The goal of issue 3: ≥ 25 % of the two-core peak on large matmuls. */
  readonly goal: {
    readonly bestLargeGflops: number;
    readonly peakRatio: number;
    readonly met: boolean;
  };
  readonly model: ModelBenchReport | { readonly skipped: string };
  /** Side-by-side peers (onnxruntime-node, TF.js), present when requested. */
  readonly peers?: PeersReport;
  readonly notes: string[];
}

/** The model's own products for a (seqLen)-token sequence and a decode step of `samples` rows. */
export function modelShapes(w: ModelWorkload): MatmulShape[] {
  const C = Number(BENCH_MODEL_CONFIG.hidden_size);
  const F = Number(BENCH_MODEL_CONFIG.intermediate_size);
  const V = Number(BENCH_MODEL_CONFIG.vocab_size);
  const T = w.seqLen;
  return [
    { name: `model mlp up T×F×C`, M: T, N: F, K: C, transA: false, transB: true },
    { name: `model mlp down T×C×F`, M: T, N: C, K: F, transA: false, transB: true },
    { name: `model lm head T×V×C`, M: T, N: V, K: C, transA: false, transB: true },
    { name: `model dW up F×C×T`, M: F, N: C, K: T, transA: true, transB: false },
    { name: `model dx down T×F×C`, M: T, N: F, K: C, transA: false, transB: false },
    { name: `model decode n×F×C`, M: w.samples, N: F, K: C, transA: false, transB: true },
  ];
}

const QUICK_SHAPES: MatmulShape[] = [
  { name: 'square 128³', M: 128, N: 128, K: 128, transA: false, transB: false },
  { name: 'tall 16×512·512×256', M: 16, N: 256, K: 512, transA: false, transB: true },
];

/** Time budget per measured cell, milliseconds. */
function benchBudgetMs(quick: boolean): number {
  return quick ? 50 : 1500;
}

/** Run every section and assemble the report. */
export function runEngineBench(opts: EngineBenchOptions): EngineBenchReport {
  const notes: string[] = [];
  const status = nativeGemmStatus();
  let backends = [...opts.backends];
  if (!status.available && backends.includes('native')) {
    backends = backends.filter((b) => b !== 'native');
    notes.push(`native backend skipped: ${status.reason}`);
  }
  const workload: ModelWorkload = opts.quick
    ? { batch: 1, seqLen: 16, samples: 1, promptLen: 4, maxTokens: 4 }
    : DEFAULT_WORKLOAD;
  const budgetMs = benchBudgetMs(opts.quick);
  const shapes = opts.quick ? QUICK_SHAPES : [...LARGE_SHAPES, ...modelShapes(workload)];
  const matmul = runMatmulBench({
    shapes,
    backends,
    threads: opts.threads,
    budgetMs,
    seed: 42,
  });
  const large = matmul.filter((r) => !r.name.startsWith('model'));
  const bestLargeGflops = large.reduce((m, r) => Math.max(m, r.gflops), 0);
  const peakRatio = Number((bestLargeGflops / PEAK_GFLOPS_TWO_CORES).toFixed(3));

  let model: EngineBenchReport['model'] = { skipped: 'disabled with --no-model' };
  if (opts.includeModel) {
    model = runModelBench(backends, Math.max(...opts.threads), budgetMs, workload);
  }
  if (opts.quick) notes.push('quick run: small shapes, short budgets — not comparable figures');
  notes.push(
    'figures are the best of repeated runs on a shared machine; compare ratios within one run',
  );
  return {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    gemm: {
      defaultBackend: gemmBackend(),
      native: status.available
        ? { available: true, ...status.info, path: status.path }
        : { available: false, reason: status.reason },
    },
    peak: { perCoreGflops: PEAK_GFLOPS_PER_CORE, twoCoreGflops: PEAK_GFLOPS_TWO_CORES },
    matmul,
    goal: { bestLargeGflops, peakRatio, met: peakRatio >= 0.25 },
    model,
    notes,
  };
}

/**
 * `runEngineBench` followed by the peer section (onnxruntime-node matmul, TF.js wasm training),
 * each measured only where the package imports; async because the peers are.
 */
export async function runEngineBenchWithPeers(
  opts: EngineBenchOptions,
): Promise<EngineBenchReport> {
  const report = runEngineBench(opts);
  const peers = await runPeers({
    matmul: report.matmul,
    threads: opts.threads,
    model: report.model,
    budgetMs: benchBudgetMs(opts.quick),
  });
  return { ...report, peers };
}
