/**
 * Warm-start pretraining of the embedded model: supervised examples of documents and of the three
 * SPELL role formats from the generator's training seeds, the training loop, and a held-out probe.
 */
export { heldOutClusters, heldOutDocuments, trainingClusters, type QaCluster } from './clusters.ts';
export {
  EXAMPLE_ROLES,
  REASONING_STYLES,
  answerSentence,
  groundingExample,
  lmExample,
  questionerExample,
  responderExample,
  verifierExample,
  type ExampleOptions,
  type ExampleRole,
  type Reasoning,
  type TextExample,
} from './examples.ts';
export { inductionExample, inductionVocab, type InductionVocab } from './induction.ts';
export { entityOf, evidenceChain, hopOrder, sentencesOf } from './chain.ts';
export { openingOf, openingWords, quoteExample } from './quote.ts';
export { encodeExample, toDatum, trainedTokens, type EncodedExample } from './encode.ts';
export {
  DEFAULT_ROLE_WEIGHTS,
  buildExample,
  drawExample,
  parseRoleWeights,
  type RoleWeights,
} from './mixture.ts';
export { learningRateAt, type LrSchedule } from './schedule.ts';
export {
  PRETRAIN_DEFAULTS,
  heldOutExamples,
  heldOutEval,
  heldOutLoss,
  runPretrain,
  type PretrainOptions,
  type PretrainResult,
} from './pretrain.ts';
export {
  PROBE_DEFAULTS,
  formatProbe,
  probeModel,
  type ProbeOptions,
  type ProbeResult,
} from './probe.ts';
