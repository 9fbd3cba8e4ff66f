/**
 * `spell tokenizer ...`: train a small byte-level BPE tokenizer into an HF folder, and inspect any
 * HF tokenizer folder (encode text, render a conversation with its chat template).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DataError, describeError } from '../../core/errors.ts';
import {
  CHATML_ADDED_TOKENS,
  loadTokenizer,
  renderChat,
  trainBpe,
  writeTokenizerFolder,
  type ChatMessage,
} from '../../text/index.ts';
import { intArg } from '../flags.ts';

/** Training texts, one file at a time: plain text files whole, .jsonl files one field per line. */
function* readTexts(files: readonly string[], field: string): Generator<string> {
  for (const file of files) {
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (err) {
      throw new DataError(`cannot read input file ${file}: ${describeError(err)}`, { file });
    }
    if (!file.endsWith('.jsonl')) {
      yield content;
      continue;
    }
    const lines = content.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (err) {
        throw new DataError(`invalid JSON in ${file} line ${i + 1}: ${describeError(err)}`, {
          file,
          row: i + 1,
        });
      }
      const value =
        typeof row === 'object' && row !== null
          ? (row as Record<string, unknown>)[field]
          : undefined;
      if (typeof value !== 'string') {
        throw new DataError(`${file} line ${i + 1}: expected a string field "${field}"`, {
          file,
          row: i + 1,
          field,
        });
      }
      yield value;
    }
  }
}

function parseMessages(file: string): ChatMessage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(`cannot read messages file ${file}: ${describeError(err)}`, { file });
  }
  const roles = new Set(['system', 'user', 'assistant', 'tool']);
  if (!Array.isArray(parsed)) {
    throw new DataError(`${file}: expected a JSON array of {"role", "content"} messages`, { file });
  }
  return parsed.map((m: unknown, i) => {
    if (
      typeof m !== 'object' ||
      m === null ||
      !('role' in m) ||
      !('content' in m) ||
      typeof m.role !== 'string' ||
      !roles.has(m.role) ||
      typeof m.content !== 'string'
    ) {
      throw new DataError(
        `${file} message ${i}: expected {"role": system|user|assistant|tool, "content": string}`,
        { file, row: i },
      );
    }
    return m as ChatMessage;
  });
}

export function registerTokenizer(program: Command): void {
  const cmd = program
    .command('tokenizer')
    .description('train a byte-level BPE tokenizer, or inspect an HF tokenizer folder');

  cmd
    .command('train')
    .description('train a byte-level BPE tokenizer (ChatML template) into an HF tokenizer folder')
    .requiredOption('--input <files...>', 'UTF-8 text files (.jsonl: one JSON object per line)')
    .requiredOption(
      '--vocab-size <n>',
      'total vocabulary size incl. 256 bytes + 5 added tokens',
      intArg('--vocab-size', { min: 1 }),
    )
    .requiredOption('--out <dir>', 'output folder (tokenizer.json + tokenizer_config.json)')
    .option('--field <name>', 'text field of .jsonl inputs', 'text')
    .option(
      '--min-frequency <n>',
      'stop merging when the best pair is rarer than this',
      intArg('--min-frequency', { min: 1 }),
      2,
    )
    .option(
      '--max-length <n>',
      'model_max_length written to tokenizer_config.json',
      intArg('--max-length', { min: 1 }),
      32768,
    )
    .action(
      (opts: {
        input: string[];
        vocabSize: number;
        out: string;
        field: string;
        minFrequency: number;
        maxLength: number;
      }) => {
        const started = performance.now();
        const model = trainBpe(readTexts(opts.input, opts.field), {
          vocabSize: opts.vocabSize,
          addedTokens: [...CHATML_ADDED_TOKENS],
          minFrequency: opts.minFrequency,
        });
        writeTokenizerFolder(opts.out, model, opts.maxLength);
        const tok = loadTokenizer(opts.out); // proves the folder loads through the shared path
        const seconds = ((performance.now() - started) / 1000).toFixed(2);
        process.stdout.write(
          `wrote ${opts.out}: vocab ${tok.vocabSize} (${model.merges.length} merges), eos ${tok.eosToken}=${tok.eosTokenId}, pad ${tok.padToken}=${tok.padTokenId}, ${seconds}s\n`,
        );
        if (model.tokens.length < opts.vocabSize) {
          process.stdout.write(
            `note: the input ran out of pairs seen >= ${opts.minFrequency} times; vocab is smaller than --vocab-size\n`,
          );
        }
      },
    );

  cmd
    .command('encode')
    .description('print the token ids of a text as JSON')
    .argument('<dir>', 'HF tokenizer folder')
    .argument('<text>', 'text to encode')
    .option('--no-special', 'do not add the post-processor special tokens')
    .action((dir: string, text: string, opts: { special: boolean }) => {
      const tok = loadTokenizer(dir);
      process.stdout.write(
        `${JSON.stringify(tok.encode(text, { addSpecialTokens: opts.special }))}\n`,
      );
    });

  cmd
    .command('chat')
    .description("render a conversation (JSON file) with the folder's chat template")
    .argument('<dir>', 'HF tokenizer folder')
    .argument('<messages>', 'JSON file: [{"role": "user", "content": "..."}, ...]')
    .option('--generation-prompt', 'append the assistant generation prompt')
    .option('--no-thinking', 'pass enable_thinking=false to the template')
    .option('--ids', 'print the token ids (JSON) instead of the text')
    .action(
      (
        dir: string,
        file: string,
        opts: { generationPrompt?: boolean; thinking: boolean; ids?: boolean },
      ) => {
        const rendered = renderChat(loadTokenizer(dir), parseMessages(file), {
          addGenerationPrompt: opts.generationPrompt ?? false,
          enableThinking: opts.thinking ? undefined : false,
        });
        process.stdout.write(opts.ids ? `${JSON.stringify(rendered.ids)}\n` : rendered.text);
      },
    );
}
