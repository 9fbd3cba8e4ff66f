/**
 * The long-context evaluation harness (`spell eval`): benchmark loaders, prompts, chat template +
 * middle truncation, concurrent sampling with resumable JSONL results, rule scoring in the
 * as-coded and as-described modes, the LLM judge, pass@k, and the summary reports.
 */
export { aggregate, recordTotal, type AggregateResult, type TaskSummary } from './aggregate.ts';
export { runJudge, parseJudgeReference, parseJudgeStrict, type JudgeOutcome } from './judge.ts';
export { loadPaperTask } from './load/benchmarks.ts';
export { loadSynthetic, syntheticEvalFile } from './load/synthetic.ts';
export { Mt19937 } from './mt19937.ts';
export { findPaperRow, paperScores, PAPER_TABLE1 } from './paper-table.ts';
export { bootstrapBestOfK, passAtK, referenceKs } from './passk.ts';
export {
  endpointPromptSource,
  localPromptSource,
  probeEndpointTokenizer,
  type FinalPrompt,
  type PromptSource,
} from './prompt-source.ts';
export { evalPrompt, judgePrompt, judgeQuestion, mcQuestionBlock } from './prompts.ts';
export { pyFloatStr } from './py-float.ts';
export type { EvalQuestion } from './question.ts';
export { selectQuestions, type LoadedQuestions, type QuestionSelection } from './questions.ts';
export { sampleKey, type SampleRecord } from './record.ts';
export { paperFor, summaryHtml, summaryMarkdown, type EvalSummary } from './report.ts';
export { runEval, type EvalProgress, type EvalRunOptions, type SamplingSettings } from './run.ts';
export { scoreSample, SCORING_MODES, type ScoringMode } from './score.ts';
export { loadResults, ResultsWriter } from './store.ts';
export { PAPER_TASKS, SUITES, SYNTHETIC_TASKS, type Suite } from './tasks.ts';
export { middleTruncate } from './truncate.ts';
export { runEvalCommand, type EvalCommandOptions } from './command.ts';
