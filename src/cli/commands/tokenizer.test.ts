import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { removeDir } from '../../text/testkit.ts';
import { loadTokenizer } from '../../text/tokenizer.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../../bin/spell.js');
const work = mkdtempSync(join(tmpdir(), 'spell-cli-tok-'));
afterAll(() => removeDir(work));

async function spell(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('spell tokenizer', { timeout: 120_000 }, () => {
  test('train writes a folder that loads, renders ChatML and round-trips text', async () => {
    const input = join(work, 'corpus.txt');
    const jsonl = join(work, 'corpus.jsonl');
    writeFileSync(input, 'the questioner asks and the responder answers\n'.repeat(200));
    writeFileSync(jsonl, `${JSON.stringify({ text: 'the verifier checks' })}\n`.repeat(50));
    const out = join(work, 'tok');
    const r = await spell(
      'tokenizer',
      'train',
      '--input',
      input,
      jsonl,
      '--vocab-size',
      '300',
      '--out',
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/vocab 300 .* eos <\|im_end\|>=297/);
    const tok = loadTokenizer(out);
    expect(tok.decode(tok.encode('the verifier answers 🚀'))).toBe('the verifier answers 🚀');

    const messages = join(work, 'messages.json');
    writeFileSync(messages, JSON.stringify([{ role: 'user', content: 'Hi' }]));
    const chat = await spell(
      'tokenizer',
      'chat',
      out,
      messages,
      '--generation-prompt',
      '--no-thinking',
    );
    expect(chat.stdout).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
    const enc = await spell('tokenizer', 'encode', out, 'the verifier');
    expect(JSON.parse(enc.stdout)).toEqual(tok.encode('the verifier'));
  });

  test('bad input exits with code 2 and names the problem', async () => {
    const missing = await spell(
      'tokenizer',
      'train',
      '--input',
      join(work, 'nope.txt'),
      '--vocab-size',
      '300',
      '--out',
      join(work, 'x'),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.txt/);
    const small = join(work, 'small.txt');
    writeFileSync(small, 'abc');
    const tooSmall = await spell(
      'tokenizer',
      'train',
      '--input',
      small,
      '--vocab-size',
      '100',
      '--out',
      join(work, 'y'),
    );
    expect(tooSmall.code).toBe(2);
    expect(tooSmall.stderr).toMatch(/vocab size 100 is too small/);
    const badJsonl = join(work, 'bad.jsonl');
    writeFileSync(badJsonl, '{"text": "ok"}\n{"body": "no text"}\n');
    const noField = await spell(
      'tokenizer',
      'train',
      '--input',
      badJsonl,
      '--vocab-size',
      '300',
      '--out',
      join(work, 'z'),
    );
    expect(noField.code).toBe(2);
    expect(noField.stderr).toMatch(/bad\.jsonl line 2: expected a string field "text"/);
  });
});
