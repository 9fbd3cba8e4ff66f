/** The local (embedded) engine adapter. */
export { LocalEngine } from './local-engine.ts';
export type { LocalEngineOptions } from './local-engine.ts';
