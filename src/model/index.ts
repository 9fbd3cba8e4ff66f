/**
 * The embedded Qwen3 engine: public surface. Two ways in:
 *  - `Qwen3Model`: synchronous, in the calling thread (benchmarks, tests, tools);
 *  - `ModelRunner`: the same model in a worker thread behind an async client (the engine).
 * Plus the HF model-folder and checkpoint I/O, the config, and the kernels' forward/backward
 * pairs for anyone measuring them.
 */
export { parseQwen3Config, qwen3Config, toHfConfigJson } from './config.ts';
export type { Qwen3Config } from './config.ts';
export { initParams, paramTable, pointParams } from './params.ts';
export { createRandomModelFolder } from './random-folder.ts';
export type { ModelViews, ParamEntry, ParamTable } from './params.ts';
export { Qwen3Model } from './model.ts';
export { adamwStep, gradNorm } from './optim.ts';
export type { AdamState, AdamStepMetrics } from './optim.ts';
export { resolveLoss, tokenLoss } from './losses.ts';
export { chooseToken } from './sampling-filter.ts';
export {
  loadModelConfig,
  loadModelFolder,
  loadWeightsInto,
  writeModelFolder,
} from './model-folder.ts';
export { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
export { readSafetensorsIndex, readTensorInto, writeSafetensors } from './safetensors.ts';
export type { SafetensorsIndex, TensorInfo, TensorToWrite } from './safetensors.ts';
export { ModelRunner } from './runner.ts';
export { KvLedger } from './kv-ledger.ts';
export type { KvLedgerSnapshot } from './kv-ledger.ts';
export type { ModelRunnerOptions } from './runner.ts';
export type { LoraOptions, ModelSource, RunnerModelInfo } from './protocol.ts';
export {
  DEFAULT_LORA_ALPHA,
  LORA_TARGETS,
  loraConfig,
  loraTable,
  mergedViews,
  peftNames,
} from './lora.ts';
export type { LoraConfig, LoraEntry, LoraTable, LoraTarget } from './lora.ts';
export type { LoraAdapters } from './model.ts';
export {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  isPeftAdapter,
  peftAdapterConfig,
  readPeftAdapterConfig,
  readPeftWeightsInto,
  writePeftAdapter,
} from './peft.ts';
export { loraForward, loraBackward, loraMergeInto } from './kernels/lora.ts';
export {
  gemm,
  gemmNaive,
  gemmBackend,
  setGemmBackend,
  gemmThreads,
  setGemmThreads,
  nativeGemmStatus,
} from './kernels/gemm.ts';
export type { GemmBackend } from './kernels/gemm.ts';
export { attentionForward, attentionBackward } from './kernels/attention.ts';
export { rmsnormForward, rmsnormBackward } from './kernels/rmsnorm.ts';
export { ropeForward, ropeBackward, ropeInvFreq } from './kernels/rope.ts';
export { swigluForward, swigluBackward } from './kernels/swiglu.ts';
export { embeddingForward, embeddingBackward } from './kernels/embedding.ts';
export { linearForward, linearBackward } from './kernels/linear.ts';
export {
  tokenLogprobForward,
  tokenLogprobBackward,
  tokenLogprobBackwardInPlace,
} from './kernels/logprobs.ts';
