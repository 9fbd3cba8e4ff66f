/** Prompt templates of the three SPELL roles (plain strings; the chat template is applied elsewhere). */
export * from './questioner.ts';
export * from './responder.ts';
export * from './verifier.ts';
