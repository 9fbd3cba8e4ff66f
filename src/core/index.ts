export * from './errors.ts';
export * from './rng.ts';
export * from './atomic.ts';
