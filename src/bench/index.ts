/** Benchmarks (speed is measured here, never asserted in tests). */
export { runEngineBench, runEngineBenchWithPeers, modelShapes } from './engine-bench.ts';
export type { EngineBenchOptions, EngineBenchReport } from './engine-bench.ts';
export {
  runMatmulBench,
  LARGE_SHAPES,
  PEAK_GFLOPS_PER_CORE,
  PEAK_GFLOPS_TWO_CORES,
} from './matmul-bench.ts';
export type { MatmulResult, MatmulShape } from './matmul-bench.ts';
export { runModelBench, BENCH_MODEL_CONFIG } from './model-bench.ts';
export type { ModelBenchReport, ModelResult } from './model-bench.ts';
export type { PeersReport } from './peers/index.ts';
