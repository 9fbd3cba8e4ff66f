/** The Tinker protocol client (JSON encoding). */
export { TinkerEngine } from './client.ts';
export type { TinkerEngineOptions } from './client.ts';
export { TinkerHttp, retryAfterMs } from './http.ts';
export type { HttpOptions, HttpStats } from './http.ts';
export type { FutureOptions } from './futures.ts';
export * as wire from './wire.ts';
