/**
 * Corpora: readers (JSONL, parquet, text folders), task routing, the domain sampler, document views with
 * token budgeting, corpus statistics, and the embedded synthetic corpus generator.
 */
export type {
  Cluster,
  ReadOptions,
  ReadProblem,
  ReadResult,
  SkipReason,
  TextBounds,
} from './cluster.ts';
export { SKIP_REASONS } from './cluster.ts';
export { readCorpus, corpusInputs, type CorpusInput } from './read/corpus.ts';
export { DEFAULT_TEXT_BOUNDS } from './read/text.ts';
export { readJsonl } from './read/jsonl.ts';
export { readParquet } from './read/parquet.ts';
export {
  DEFAULT_ROUTING,
  routeClusters,
  splitSizes,
  type RoutingTable,
  type Routed,
} from './routing.ts';
export {
  DomainSampler,
  batchCounts,
  type Draw,
  type SamplerConfig,
  type SamplerState,
} from './sampler.ts';
export { responderContext, type CountTokens } from './views.ts';
export { corpusStats, formatStats, countWords, summarise, type CorpusStats } from './stats.ts';
export {
  synthCorpus,
  GENERATOR_VERSION,
  SYNTH_SOURCES,
  type EvalRecord,
  type TrainRecord,
  type SynthOptions,
  type SynthManifest,
  type SynthFiles,
} from './synth/corpus.ts';
export { writeSynthCorpus } from './synth/write.ts';
export { readEvalSet } from './synth/eval-set.ts';
export { DEFAULT_SYNTH_OPTIONS, defaultCorpusPath } from './synth/default.ts';
