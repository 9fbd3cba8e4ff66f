/**
 * Typed boundary to `@huggingface/tokenizers` and `@huggingface/jinja`. Their .d.ts files re-export
 * classes through extensionless relative paths, which NodeNext resolution cannot follow, so the
 * classes arrive untyped. We describe here, once, the few members spell uses, and every other
 * module imports these typed handles instead of the packages.
 */
import * as jinja from '@huggingface/jinja';
import * as tokenizers from '@huggingface/tokenizers';

/** The members of `@huggingface/tokenizers`' Tokenizer that spell calls. */
export interface HfTokenizerCore {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  decode(
    ids: number[],
    options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean },
  ): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens: boolean): Map<string, number>;
  get_added_tokens_decoder(): Map<number, { readonly content: string; readonly special: boolean }>;
  readonly pre_tokenizer: { pre_tokenize_text(text: string): string[] } | null;
}

export const TokenizerCore = (
  tokenizers as unknown as {
    Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => HfTokenizerCore;
  }
).Tokenizer;

/** A parsed Jinja template (its AST, opaque to us). */
export interface JinjaTemplate {
  readonly parsed: object;
}

/** A Jinja variable scope; `set` declares (and throws on redeclaration). */
export interface JinjaEnvironment {
  set(name: string, value: unknown): unknown;
  readonly variables: Map<string, unknown>;
}

const lib = jinja as unknown as {
  Template: new (source: string) => JinjaTemplate;
  Environment: new () => JinjaEnvironment;
  Interpreter: new (env: JinjaEnvironment) => { run(program: object): { value: unknown } };
};

export const JinjaTemplateClass = lib.Template;
export const JinjaEnvironmentClass = lib.Environment;
export const JinjaInterpreterClass = lib.Interpreter;
