/**
 * Text layer: HF tokenizer folders, chat-template rendering, and the byte-level BPE trainer.
 * (Answer normalisation for scoring lives in normalize.ts and is exported by its owner.)
 */
export {
  HfTokenizer,
  loadTokenizer,
  tokenizerFromJson,
  type TokenizerConfigJson,
  type EncodeOptions,
  type DecodeOptions,
} from './tokenizer.ts';
export {
  renderChat,
  renderChatText,
  type ChatMessage,
  type ChatRole,
  type RenderOptions,
  type RenderedChat,
} from './chat.ts';
export { trainBpe, countChunks, type BpeModel, type BpeTrainOptions } from './bpe-train.ts';
export {
  CHATML_ADDED_TOKENS,
  CHATML_TEMPLATE,
  buildTokenizerJson,
  buildTokenizerConfig,
  writeTokenizerFolder,
} from './tokenizer-files.ts';
export { toByteLevel, BYTE_ALPHABET } from './byte-level.ts';
export { splitPretokens, PRETOKENIZE_PATTERN } from './pretokenize.ts';
