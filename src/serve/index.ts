/** `spell serve`: the embedded engine over the Tinker protocol and an OpenAI-compatible API. */
export { checkListenable, startServer } from './server.ts';
export type { ExtraRoutes, RouteHandler, ServeOptions, SpellServer } from './server.ts';
export { TinkerService, EngineSlot } from './tinker-service.ts';
export type { EngineProvider, ModelCounters, TinkerServiceOptions } from './tinker-service.ts';
export { openAiRoutes } from './openai-routes.ts';
export type { OpenAiRoutesOptions } from './openai-routes.ts';
export { localProvider } from './local-provider.ts';
