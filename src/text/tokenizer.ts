/**
 * Offline loading of Hugging Face tokenizer folders (tokenizer.json + tokenizer_config.json, and an
 * optional chat_template.jinja), wrapped in one small class that the controller, the local engine
 * and the evaluator share. Encoding itself is done by `@huggingface/tokenizers`, whose ids match HF's
 * Rust tokenizer; this module adds file checks with clear errors, special-token lookup and a cache.
 *
 * It deliberately does not render chat templates (see chat.ts) or download anything.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError, describeError } from '../core/errors.ts';
import { TokenizerCore, type HfTokenizerCore } from './hf-libs.ts';

/** The parts of tokenizer_config.json that spell reads; other keys are kept and passed through. */
export interface TokenizerConfigJson {
  readonly chat_template?: unknown;
  readonly bos_token?: unknown;
  readonly eos_token?: unknown;
  readonly pad_token?: unknown;
  readonly unk_token?: unknown;
  readonly model_max_length?: unknown;
  readonly [key: string]: unknown;
}

export interface EncodeOptions {
  /** Apply the tokenizer's post-processor (e.g. a BOS token), as HF does by default. Default true. */
  readonly addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (`<|im_end|>`, ...) from the text. Default false. */
  readonly skipSpecialTokens?: boolean;
}

/** The names HF's special_tokens_map uses, in HF's order. */
const SPECIAL_TOKEN_KEYS = [
  'bos_token',
  'eos_token',
  'unk_token',
  'sep_token',
  'pad_token',
  'cls_token',
  'mask_token',
] as const;

/** A loaded HF tokenizer folder. Immutable; obtain one with `loadTokenizer`. */
export class HfTokenizer {
  /** Special token strings by HF name (`eos_token` → `<|im_end|>`); unset names are absent. */
  readonly specialTokensMap: Readonly<Record<string, string>>;
  /** Number of ids the tokenizer can produce (max id + 1, added tokens included). */
  readonly vocabSize: number;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  readonly padToken: string | undefined;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  private readonly specialIds: ReadonlySet<number>;
  private endIds: readonly number[] | null = null;

  constructor(
    /** Absolute path of the folder the files came from. */
    readonly dir: string,
    private readonly inner: HfTokenizerCore,
    readonly config: TokenizerConfigJson,
    /** The raw chat template source(s) from the folder, if any (see chat.ts). */
    readonly chatTemplate: string | Readonly<Record<string, string>> | undefined,
  ) {
    const map: Record<string, string> = {};
    const configFile = join(dir, 'tokenizer_config.json');
    for (const key of SPECIAL_TOKEN_KEYS) {
      const value = specialTokenContent(config[key], configFile, key);
      if (value !== undefined) map[key] = value;
    }
    this.specialTokensMap = map;
    let maxId = -1;
    for (const id of inner.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    const ids = new Set<number>();
    for (const [id, token] of inner.get_added_tokens_decoder()) if (token.special) ids.add(id);
    this.specialIds = ids;
    this.bosToken = map.bos_token;
    this.eosToken = map.eos_token;
    this.padToken = map.pad_token;
    this.bosTokenId = this.bosToken === undefined ? undefined : this.requireTokenId(this.bosToken);
    this.eosTokenId = this.eosToken === undefined ? undefined : this.requireTokenId(this.eosToken);
    this.padTokenId = this.padToken === undefined ? undefined : this.requireTokenId(this.padToken);
  }

  /** Text → token ids. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.inner.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /**
   * Token ids → text. Ids at or above `vocabSize` decode to nothing, as in HF (models often pad
   * their embedding past the tokenizer, e.g. Qwen3's 151,936 rows for 151,669 tokens).
   * @throws DataError for a negative or non-integer id
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const known: number[] = [];
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) {
        throw new DataError(
          `token id ${id} is not a non-negative integer (tokenizer ${this.dir})`,
          {
            field: 'ids',
          },
        );
      }
      if (id < this.vocabSize) known.push(id);
    }
    if (known.length === 0) return ''; // the library rejects an empty list
    return this.inner.decode(known, {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      // HF applies the folder's setting; absent means off (transformers' current default).
      clean_up_tokenization_spaces: this.config.clean_up_tokenization_spaces === true,
    });
  }

  /**
   * The ids that end a generated turn: the eos token, generation_config.json's `eos_token_id`
   * (one id or a list; Llama 3 and SmolLM2 name theirs there) and, when they are tokens,
   * `<|im_end|>` and `<|endoftext|>`. Read once, on first use.
   * @throws DataError when generation_config.json exists but is not valid JSON
   */
  endOfTurnIds(): readonly number[] {
    if (this.endIds) return this.endIds;
    const ids = new Set<number>();
    if (this.eosTokenId !== undefined) ids.add(this.eosTokenId);
    const genFile = join(this.dir, 'generation_config.json');
    if (existsSync(genFile)) {
      const eos = readJsonObject(genFile).eos_token_id;
      for (const id of Array.isArray(eos) ? eos : [eos]) {
        if (Number.isInteger(id) && (id as number) >= 0) ids.add(id as number);
      }
    }
    for (const t of ['<|im_end|>', '<|endoftext|>']) {
      const id = this.tokenToId(t);
      if (id !== undefined) ids.add(id);
    }
    this.endIds = [...ids];
    return this.endIds;
  }

  /** The id of a token string (special or not), or undefined when it is not one token. */
  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  /** The id of a token string; throws DataError naming the folder when it is missing. */
  requireTokenId(token: string): number {
    const id = this.inner.token_to_id(token);
    if (id === undefined) {
      throw new DataError(
        `token ${JSON.stringify(token)} is not in the vocabulary of ${this.dir}`,
        {
          file: join(this.dir, 'tokenizer.json'),
        },
      );
    }
    return id;
  }

  /** The token string of an id, or undefined outside the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }

  /** True for ids of added tokens marked special (these are dropped by skipSpecialTokens). */
  isSpecialId(id: number): boolean {
    return this.specialIds.has(id);
  }
}

/** A special-token entry is a string, an AddedToken-like `{content}` object, or null. */
function specialTokenContent(value: unknown, file: string, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && 'content' in value && typeof value.content === 'string') {
    return value.content;
  }
  throw new DataError(`${field} must be a string, {"content": string} or null`, { file, field });
}

function readJsonObject(file: string): Record<string, unknown> {
  if (!existsSync(file)) {
    throw new DataError(`missing tokenizer file ${file} (an HF tokenizer folder needs it)`, {
      file,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(
      `corrupt tokenizer file ${file}: ${describeError(err)}`,
      { file },
      {
        cause: err,
      },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DataError(`corrupt tokenizer file ${file}: expected a JSON object`, { file });
  }
  return parsed as Record<string, unknown>;
}

/** chat_template may be a string or HF's list of `{name, template}`; a .jinja file also counts. */
function readChatTemplate(
  dir: string,
  config: TokenizerConfigJson,
): string | Record<string, string> | undefined {
  const configFile = join(dir, 'tokenizer_config.json');
  const raw = config.chat_template;
  if (typeof raw === 'string') return raw;
  if (Array.isArray(raw)) {
    const named: Record<string, string> = {};
    for (const entry of raw as unknown[]) {
      if (
        typeof entry !== 'object' ||
        entry === null ||
        !('name' in entry) ||
        !('template' in entry) ||
        typeof entry.name !== 'string' ||
        typeof entry.template !== 'string'
      ) {
        throw new DataError(
          'chat_template list entries must be {"name": string, "template": string}',
          {
            file: configFile,
            field: 'chat_template',
          },
        );
      }
      named[entry.name] = entry.template;
    }
    return named;
  }
  if (raw !== undefined && raw !== null) {
    throw new DataError('chat_template must be a string or a list of named templates', {
      file: configFile,
      field: 'chat_template',
    });
  }
  const jinjaFile = join(dir, 'chat_template.jinja');
  return existsSync(jinjaFile) ? readFileSync(jinjaFile, 'utf8') : undefined;
}

/** Build a tokenizer from already-parsed files (used by the loader and by tests). */
export function tokenizerFromJson(
  dir: string,
  tokenizerJson: Record<string, unknown>,
  config: TokenizerConfigJson,
): HfTokenizer {
  const file = join(dir, 'tokenizer.json');
  const model = tokenizerJson.model;
  if (typeof model !== 'object' || model === null || !('type' in model)) {
    throw new DataError(`corrupt tokenizer file ${file}: expected a "model" object with a "type"`, {
      file,
      field: 'model',
    });
  }
  let inner: HfTokenizerCore;
  try {
    inner = new TokenizerCore(tokenizerJson, config);
  } catch (err) {
    throw new DataError(
      `cannot build a tokenizer from ${file}: ${describeError(err)}`,
      { file },
      {
        cause: err,
      },
    );
  }
  return new HfTokenizer(dir, inner, config, readChatTemplate(dir, config));
}

const cache = new Map<string, HfTokenizer>();

/**
 * Load an HF tokenizer folder, offline. Loaded tokenizers are cached by absolute path and the
 * files' modification times, so a folder rewritten in place is reloaded.
 *
 * @param dir a folder holding tokenizer.json and tokenizer_config.json
 * @throws DataError naming the missing or corrupt file
 * @example
 *   const tok = loadTokenizer('models/tiny');
 *   tok.decode(tok.encode('hello')) // 'hello'
 */
export function loadTokenizer(dir: string): HfTokenizer {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new DataError(
      `tokenizer folder ${abs} does not exist (expected a folder with tokenizer.json)`,
      {
        file: abs,
      },
    );
  }
  const tokFile = join(abs, 'tokenizer.json');
  const cfgFile = join(abs, 'tokenizer_config.json');
  const key = `${abs}\0${mtimeOf(tokFile)}\0${mtimeOf(cfgFile)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const tokenizerJson = readJsonObject(tokFile);
  const config = readJsonObject(cfgFile);
  const tok = tokenizerFromJson(abs, tokenizerJson, config);
  for (const k of cache.keys()) if (k.startsWith(`${abs}\0`)) cache.delete(k);
  cache.set(key, tok);
  return tok;
}

function mtimeOf(file: string): number {
  return existsSync(file) ? statSync(file).mtimeMs : -1;
}
