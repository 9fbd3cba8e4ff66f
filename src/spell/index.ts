/**
 * The SPELL algorithm, pure and synchronous: prompts, questioner parsing, verifier votes,
 * rewards, advantages, history memory and final batch assembly. No I/O and no engine calls;
 * randomness only through an injected `Rng`. train/ owns the order of events in a step.
 */
export * from './task.ts';
export * from './config.ts';
export * from './prompts/index.ts';
export * from './questioner-parse.ts';
export * from './verifier.ts';
export * from './rewards.ts';
export * from './advantages.ts';
export * from './history.ts';
export * from './repeat-guard.ts';
export * from './batch.ts';
export * from './rules/index.ts';
