/** The OpenAI-compatible ChatEngine adapter. */
export { OpenAiChatEngine, type OpenAiChatEngineOptions } from './openai-chat-engine.ts';
export { Limiter } from './limiter.ts';
