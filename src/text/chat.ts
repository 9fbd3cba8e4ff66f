/**
 * Chat rendering: a conversation → the exact text (and token ids) the model's own Jinja chat
 * template produces, the way HF's `apply_chat_template` builds it: the template sees `messages`,
 * `add_generation_prompt`, `tools`/`documents` when given, the special-token strings (`bos_token`,
 * `eos_token`, ...), any extra template kwargs (e.g. `enable_thinking`), and the globals
 * `raise_exception` and `strftime_now`. Ids are the rendered text encoded without adding special
 * tokens again (the template already wrote them), as HF does with `tokenize=True`.
 *
 * It does not parse model output back into messages; the caller owns that.
 */
import { ConfigurationError, DataError, describeError } from '../core/errors.ts';
import {
  JinjaEnvironmentClass,
  JinjaInterpreterClass,
  JinjaTemplateClass,
  type JinjaEnvironment,
  type JinjaTemplate,
} from './hf-libs.ts';
import { strftime } from './strftime.ts';
import type { HfTokenizer } from './tokenizer.ts';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** One chat turn. Extra fields (e.g. `reasoning_content`) are passed to the template as-is. */
export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  readonly reasoning_content?: string;
}

export interface RenderOptions {
  /** Append the header that asks the model for the next assistant turn. Default false, as in HF. */
  readonly addGenerationPrompt?: boolean;
  /**
   * Qwen3-style thinking switch, passed as the template variable `enable_thinking`. Undefined
   * leaves the variable undefined (the template's own default, thinking on for Qwen3).
   */
  readonly enableThinking?: boolean;
  /** Extra template variables (HF's `**kwargs`); they override the special-token names. */
  readonly templateKwargs?: Readonly<Record<string, unknown>>;
  readonly tools?: readonly unknown[];
  readonly documents?: readonly unknown[];
  /** Which template of a folder with several named ones (HF's `chat_template=` name). */
  readonly templateName?: string;
  /** The date `strftime_now` reports; default now. */
  readonly now?: Date;
}

export interface RenderedChat {
  readonly text: string;
  readonly ids: number[];
}

const compiled = new Map<string, JinjaTemplate>();

function compile(source: string, origin: string): JinjaTemplate {
  let template = compiled.get(source);
  if (template === undefined) {
    try {
      template = new JinjaTemplateClass(source);
    } catch (err) {
      throw new DataError(`cannot parse the chat template of ${origin}: ${describeError(err)}`, {
        file: origin,
        field: 'chat_template',
      });
    }
    compiled.set(source, template);
  }
  return template;
}

/** Pick the template source HF would use: the named one, else `default`, else the only one. */
function templateSource(tok: HfTokenizer, name: string | undefined): string {
  const t = tok.chatTemplate;
  if (t === undefined) {
    throw new ConfigurationError(
      `tokenizer folder ${tok.dir} has no chat template (expected chat_template in tokenizer_config.json or a chat_template.jinja file)`,
    );
  }
  if (typeof t === 'string') {
    if (name !== undefined && name !== 'default') {
      throw new ConfigurationError(
        `${tok.dir} has a single chat template; no template named "${name}"`,
      );
    }
    return t;
  }
  const names = Object.keys(t);
  const wanted = name ?? 'default';
  const picked = t[wanted] ?? (name === undefined && names.length === 1 ? t[names[0]] : undefined);
  if (picked === undefined) {
    throw new ConfigurationError(
      `${tok.dir} has no chat template named "${wanted}" (it has: ${names.join(', ')})`,
    );
  }
  return picked;
}

/**
 * Render a conversation to text with the folder's chat template.
 * @throws ConfigurationError when the folder has no (such) template; DataError when the template
 *   rejects the conversation (its `raise_exception`) or fails to render.
 * @example
 *   renderChatText(tok, [{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true })
 *   // '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'
 */
export function renderChatText(
  tok: HfTokenizer,
  messages: readonly ChatMessage[],
  options: RenderOptions = {},
): string {
  const template = compile(templateSource(tok, options.templateName), tok.dir);
  const now = options.now ?? new Date();
  const context: Record<string, unknown> = {
    messages: messages.map((m) => ({ ...m })),
    add_generation_prompt: options.addGenerationPrompt ?? false,
    ...tok.specialTokensMap,
  };
  if (options.tools !== undefined) context.tools = options.tools;
  if (options.documents !== undefined) context.documents = options.documents;
  if (options.enableThinking !== undefined) context.enable_thinking = options.enableThinking;
  Object.assign(context, options.templateKwargs);
  const env = templateGlobals(tok.dir, now);
  for (const [key, value] of Object.entries(context)) {
    if (env.variables.has(key)) env.variables.delete(key);
    env.set(key, value);
  }
  try {
    const out = new JinjaInterpreterClass(env).run(template.parsed).value;
    if (typeof out !== 'string') throw new Error('the template did not produce text');
    return out;
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`the chat template of ${tok.dir} failed to render: ${describeError(err)}`, {
      field: 'messages',
    });
  }
}

/** Python's range(), as Jinja templates call it. */
function range(start: number, stop?: number, step = 1): number[] {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new DataError('range() step must not be zero', { field: 'chat_template' });
  const out: number[] = [];
  for (let i = lo; step > 0 ? i < hi : i > hi; i += step) out.push(i);
  return out;
}

/**
 * The globals HF gives a chat template. We build them ourselves (rather than Template.render) so
 * `raise_exception` throws our typed error and `strftime_now` uses the caller's clock.
 */
function templateGlobals(dir: string, now: Date): JinjaEnvironment {
  const env = new JinjaEnvironmentClass();
  const constants = { true: true, false: false, none: null, True: true, False: false, None: null };
  for (const [key, value] of Object.entries(constants)) env.set(key, value);
  env.set('range', range);
  env.set('raise_exception', (message: unknown): never => {
    throw new DataError(
      `the chat template of ${dir} rejected the conversation: ${String(message)}`,
      {
        field: 'messages',
      },
    );
  });
  env.set('strftime_now', (format: unknown): string => strftime(String(format), now));
  return env;
}

/**
 * Render a conversation and tokenize it, as HF's `apply_chat_template(..., tokenize=True)`.
 * These ids are what a prompt sent to a PolicyEngine should be.
 */
export function renderChat(
  tok: HfTokenizer,
  messages: readonly ChatMessage[],
  options: RenderOptions = {},
): RenderedChat {
  const text = renderChatText(tok, messages, options);
  return { text, ids: tok.encode(text, { addSpecialTokens: false }) };
}
