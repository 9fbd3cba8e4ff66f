import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Rng } from '../core/rng.ts';
import { ConfigurationError, DataError } from '../core/errors.ts';
import { trainBpe } from './bpe-train.ts';
import { renderChat, renderChatText, type ChatMessage } from './chat.ts';
import { CHATML_ADDED_TOKENS, buildTokenizerJson } from './tokenizer-files.ts';
import { loadTokenizer, type HfTokenizer } from './tokenizer.ts';
import { makeQwen3TokenizerDir, removeDir } from './testkit.ts';

let dir: string;
let tok: HfTokenizer;
const scratch: string[] = [];

beforeAll(() => {
  dir = makeQwen3TokenizerDir();
  tok = loadTokenizer(dir);
});
afterAll(() => {
  removeDir(dir);
  for (const d of scratch) removeDir(d);
});

/** A small trained tokenizer.json (fast to load) with the given tokenizer_config.json. */
const SMALL_TOKENIZER_JSON = JSON.stringify(
  buildTokenizerJson(
    trainBpe(['the answer is in the document'], {
      vocabSize: 270,
      addedTokens: [...CHATML_ADDED_TOKENS],
    }),
  ),
);
function folderWithConfig(config: Record<string, unknown>): string {
  const d = mkdtempSync(join(tmpdir(), 'spell-chat-'));
  scratch.push(d);
  writeFileSync(join(d, 'tokenizer.json'), SMALL_TOKENIZER_JSON);
  writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify(config));
  return d;
}

const TWO_TURNS: ChatMessage[] = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'What is 2+2?' },
  { role: 'assistant', content: '<think>\nSimple addition.\n</think>\n\n2+2 = 4.' },
  { role: 'user', content: 'Now triple it.' },
];

describe('Qwen3 chat template (golden renderings, worked out from the template by hand)', () => {
  test('two turns with thinking on (default): history reasoning is stripped, bare generation prompt', () => {
    expect(renderChatText(tok, TWO_TURNS, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nAnswer briefly.<|im_end|>\n' +
        '<|im_start|>user\nWhat is 2+2?<|im_end|>\n' +
        '<|im_start|>assistant\n2+2 = 4.<|im_end|>\n' +
        '<|im_start|>user\nNow triple it.<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
  });

  test('two turns with enable_thinking=false: the generation prompt carries an empty think block', () => {
    expect(
      renderChatText(tok, TWO_TURNS, { addGenerationPrompt: true, enableThinking: false }),
    ).toBe(
      '<|im_start|>system\nAnswer briefly.<|im_end|>\n' +
        '<|im_start|>user\nWhat is 2+2?<|im_end|>\n' +
        '<|im_start|>assistant\n2+2 = 4.<|im_end|>\n' +
        '<|im_start|>user\nNow triple it.<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
  });

  test('an assistant turn after the last user query keeps its reasoning in a think block', () => {
    expect(renderChatText(tok, TWO_TURNS.slice(1, 3))).toBe(
      '<|im_start|>user\nWhat is 2+2?<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\nSimple addition.\n</think>\n\n2+2 = 4.<|im_end|>\n',
    );
  });

  test('ids are the rendered text encoded without extra special tokens', () => {
    const r = renderChat(tok, [{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
    expect(r.text).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    expect(r.ids).toEqual([151644, 872, 198, 13048, 151645, 198, 151644, 77091, 198]);
  });
});

const SNIPPETS = [
  'The capital of France is Paris.',
  '東京は日本の首都です。',
  'Привет, мир!',
  'مرحبا',
  '🚀 x²+y³ = 42.5',
  '  leading spaces',
  'trailing newline\n',
  '\n\nblank lines\n\n',
  'tabs\tand\tmore',
  '<tool_response>x</tool_response>',
  'a literal <|im_end|> inside',
  '',
];

function randomText(rng: Rng): string {
  const parts: string[] = [];
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) parts.push(rng.choice(SNIPPETS));
  return parts.join(rng.choice([' ', '', '\n']));
}

/** user/assistant alternation, optional system first; assistants without reasoning. */
function randomConversation(rng: Rng, turns: number): ChatMessage[] {
  const msgs: ChatMessage[] = [];
  if (rng.next() < 0.5) msgs.push({ role: 'system', content: randomText(rng) });
  for (let t = 0; t < turns; t++) {
    msgs.push({ role: 'user', content: randomText(rng) });
    msgs.push({ role: 'assistant', content: randomText(rng) });
  }
  return msgs;
}

describe('chat rendering properties (Qwen3)', () => {
  test('render → encode → decode gives back the rendered text exactly', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 40; i++) {
      const msgs = randomConversation(rng, 1 + rng.int(3));
      for (const enableThinking of [undefined, false]) {
        const r = renderChat(tok, msgs, { addGenerationPrompt: true, enableThinking });
        expect(tok.decode(r.ids)).toBe(r.text);
      }
    }
  });

  test('with thinking on, the generation prompt of turn k is a prefix of the rendering of turn k+1', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 40; i++) {
      const msgs = randomConversation(rng, 2 + rng.int(2));
      const firstUser = msgs[0].role === 'system' ? 1 : 0;
      for (let k = firstUser + 1; k < msgs.length; k += 2) {
        const prompt = renderChatText(tok, msgs.slice(0, k), { addGenerationPrompt: true });
        // the turn itself, and the conversation continued by the next user query
        const answered = renderChatText(tok, msgs.slice(0, k + 1));
        const continued = renderChatText(tok, msgs.slice(0, k + 2));
        expect(answered.startsWith(prompt)).toBe(true);
        expect(continued.startsWith(prompt)).toBe(true);
      }
    }
  });

  test('with thinking off the prompt extends to the answered turn, but not past the next query', () => {
    // Qwen3 keeps the empty think block only on the latest turn: the template guarantees the
    // first prefix property and (by design) breaks the second. Callers must not assume it.
    const msgs: ChatMessage[] = [
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
    ];
    const prompt = renderChatText(tok, msgs.slice(0, 1), {
      addGenerationPrompt: true,
      enableThinking: false,
    });
    const answered = renderChatText(tok, msgs.slice(0, 2), { enableThinking: false });
    const continued = renderChatText(tok, msgs, { enableThinking: false });
    expect(answered.startsWith(prompt)).toBe(true);
    expect(continued.startsWith(prompt)).toBe(false);
  });
});

describe('template context and errors', () => {
  test('special tokens, template kwargs, raise_exception and strftime_now reach the template', () => {
    const template =
      "{% if messages[0].role != 'user' %}{{ raise_exception('first turn must be user') }}{% endif %}" +
      '{{ eos_token }}|{{ pad_token }}|{{ greeting }}|{{ strftime_now("%d %b %Y") }}|{{ messages[0].content }}';
    const d = folderWithConfig({
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
      chat_template: template,
    });
    const t = loadTokenizer(d);
    const text = renderChatText(t, [{ role: 'user', content: 'x' }], {
      templateKwargs: { greeting: 'hello' },
      now: new Date(2025, 8, 28),
    });
    expect(text).toBe('<|im_end|>|<|endoftext|>|hello|28 Sep 2025|x');
    expect(() => renderChatText(t, [{ role: 'system', content: 'x' }])).toThrow(
      /rejected the conversation: first turn must be user/,
    );
  });

  test('named templates: the named one, else "default"; an unknown name lists the ones there are', () => {
    const d = folderWithConfig({
      chat_template: [
        { name: 'default', template: 'D{{ messages|length }}' },
        { name: 'tool_use', template: 'T' },
      ],
    });
    const t = loadTokenizer(d);
    const msgs: ChatMessage[] = [{ role: 'user', content: 'x' }];
    expect(renderChatText(t, msgs)).toBe('D1');
    expect(renderChatText(t, msgs, { templateName: 'tool_use' })).toBe('T');
    expect(() => renderChatText(t, msgs, { templateName: 'rag' })).toThrow(/default, tool_use/);
  });

  test('a chat_template.jinja file next to the config is used when the config has none', () => {
    const d = folderWithConfig({});
    writeFileSync(join(d, 'chat_template.jinja'), '[{{ messages[0].content }}]');
    expect(renderChatText(loadTokenizer(d), [{ role: 'user', content: 'q' }])).toBe('[q]');
  });

  test('a folder without any chat template is a ConfigurationError naming the folder', () => {
    const d = folderWithConfig({});
    expect(() => renderChatText(loadTokenizer(d), [])).toThrow(ConfigurationError);
  });

  test('a template that does not parse is a DataError naming chat_template', () => {
    const d = folderWithConfig({ chat_template: '{% for m in messages %}{{ m }' });
    expect(() => renderChatText(loadTokenizer(d), [])).toThrow(DataError);
  });
});
