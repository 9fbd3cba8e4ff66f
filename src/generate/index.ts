/**
 * `spell generate`: SPELL's three roles as a data engine over OpenAI-compatible endpoints — hard,
 * grounded, verified question–answer pairs with a measured pass rate, no training involved.
 */
export {
  runGenerate,
  type GenerateOptions,
  type GenerateProgress,
  type GenerateResult,
} from './generate.ts';
export {
  runGenerateCommand,
  type EndpointOptions,
  type GenerateCommandOptions,
} from './command.ts';
export { parseKeepPolicy, keeps, DEFAULT_KEEP, type KeepPolicy } from './keep-policy.ts';
export {
  NearDuplicateIndex,
  DEFAULT_DUPLICATE_THRESHOLD,
  jaccard,
  questionTokens,
} from './near-duplicate.ts';
export { runQuestion, replayRecord, type FlowContext, type FlowSettings } from './question-flow.ts';
export {
  REJECT_REASONS,
  ROLES,
  type QuestionRecord,
  type RejectReason,
  type Role,
} from './record.ts';
export { SlotSchedule } from './schedule.ts';
export { loadState, StateWriter, type RunIdentity } from './state-file.ts';
export { summarise, formatSummary, type GenerateSummary, type Prices } from './summary.ts';
export { datasetFormat, datasetRows, writeDataset, type DatasetRow } from './dataset.ts';
export {
  endpointCounter,
  estimatingCounter,
  tokenizerCounter,
  type TokenCounter,
} from './token-counter.ts';
