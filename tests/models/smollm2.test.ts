/**
 * SmolLM2-135M-Instruct (the real model, Q4_1 GGUF) imported by spell and checked against
 * transformers loading the same GGUF (peers/models/make_references.py smollm2 wrote the
 * reference files; llamacpp_tokenize.py wrote llama.cpp's tokenizer ids as a second reference):
 *  - the import: architecture, tensor types, parameter count;
 *  - the tokenizer on 3,200 varied lines (code, docs, unicode, numbers, whitespace runs);
 *  - the model's own chat template: rendered prompt ids equal apply_chat_template's;
 *  - next-token logits (top-20 values, 64 probe ids, logsumexp) at two positions of six prompts,
 *    one of 1,6xx tokens, within LOGIT_TOLERANCE;
 *  - greedy decoding: the same first 32 tokens for all six prompts;
 *  - `spell eval` and `spell generate` (the real CLI) against `spell serve` on the imported folder:
 *    one question per task, a few tokens each — they run to the end through the model's own chat
 *    template, tokenizer (/tokenize) and end-of-turn tokens.
 * Skips without the GGUF, fails without it under SPELL_REQUIRE_PEERS=1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportModel } from '../../src/model/export.ts';
import { loadTokenizerFrom } from '../../src/model/gguf/load-tokenizer.ts';
import { readGgufHeader } from '../../src/model/gguf/reader.ts';
import { importModel } from '../../src/model/import-model.ts';
import type { ImportResult } from '../../src/model/import-model.ts';
import { loadModelFolder } from '../../src/model/model-folder.ts';
import type { Qwen3Model } from '../../src/model/model.ts';
import { peerRequired } from '../../src/model/testing/required-peers.ts';
import { smollm2Gguf } from '../../src/model/testing/smollm2.ts';
import { renderChat } from '../../src/text/chat.ts';
import type { ChatMessage } from '../../src/text/chat.ts';
import { loadTokenizer } from '../../src/text/tokenizer.ts';
import type { HfTokenizer } from '../../src/text/tokenizer.ts';
import { startServeProcess } from '../engine/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Run the real CLI to completion (bounded); its exit code and output. */
function spell(
  args: readonly string[],
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'spell.js'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const hard = setTimeout(() => child.kill('SIGKILL'), 400_000);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(hard);
      resolve({ code, out, err });
    });
  });
}

const LLAMA_PY = join(
  resolve(process.env.SPELL_PEERS_HOME ?? 'peers/.venv'),
  'llamacpp',
  'bin',
  'python',
);
const CHECK_EXPORT = join(ROOT, 'peers', 'lora', 'check_export.py');
const REF = join(import.meta.dirname, '..', 'fixtures', 'models', 'smollm2');
// fp32 on both sides over 30 layers; summation order and RoPE angle precision differ. Measured
// max |Δlogit| 6.9e-5 on the short prompts; tolerance 2e-3 leaves room for the long one.
const LOGIT_TOLERANCE = 2e-3;
const gguf = smollm2Gguf();

interface RowRef {
  readonly topIds: number[];
  readonly topValues: number[];
  readonly probeValues: number[];
  readonly logSumExp: number;
}
interface Reference {
  readonly probeIds: number[];
  readonly prompts: readonly {
    readonly messages: ChatMessage[];
    readonly ids: number[];
    readonly rows: Readonly<Record<string, RowRef>>;
    readonly greedy: number[];
    readonly greedyText: string;
  }[];
}
const ref = JSON.parse(readFileSync(join(REF, 'reference.json'), 'utf8')) as Reference;

function idLines(file: string): string[] {
  const r = JSON.parse(readFileSync(join(REF, file), 'utf8')) as {
    lengths: number[];
    idsUint16LeBase64: string;
  };
  const ids = new Uint16Array(Uint8Array.from(Buffer.from(r.idsUint16LeBase64, 'base64')).buffer);
  let off = 0;
  return r.lengths.map((n) => {
    const line = JSON.stringify(Array.from(ids.subarray(off, off + n)));
    off += n;
    return line;
  });
}

describe.skipIf(gguf === null)('SmolLM2-135M-Instruct from its GGUF, against transformers', () => {
  let dir = '';
  let imported: ImportResult;
  let model: Qwen3Model;
  let tok: HfTokenizer;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'spell-smollm2-'));
    imported = importModel(gguf ?? '', join(dir, 'model'));
    model = loadModelFolder(imported.outDir);
    tok = loadTokenizer(imported.outDir);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports as a tied Llama of 134.5M parameters from Q4_1, Q8_0 and F32 tensors', () => {
    expect(imported.family).toBe('llama');
    expect(imported.tensorTypes).toEqual({ Q8_0: 1, F32: 61, Q4_1: 210 });
    expect(model.config).toMatchObject({
      numLayers: 30,
      hiddenSize: 576,
      numHeads: 9,
      numKvHeads: 3,
      headDim: 64,
      vocabSize: 49152,
      tieWordEmbeddings: true,
      ropeTheta: 100_000,
    });
    expect(tok.eosToken).toBe('<|im_end|>');
    expect(tok.endOfTurnIds()).toContain(2);
  });

  it('tokenizes 3,200 varied lines as transformers does, except where its GGUF conversion drops the digit split', () => {
    const lines = readFileSync(join(REF, 'tokenizer-corpus.txt'), 'utf8').split('\n');
    const hf = idLines('tokenizer-ids.json');
    const llamaCpp = idLines('tokenizer-ids-llamacpp.json');
    let equal = 0;
    const differ: number[] = [];
    hf.forEach((want, i) => {
      const got = JSON.stringify(tok.encode(lines[i], { addSpecialTokens: false }));
      if (got === want) equal++;
      else {
        // SmolLM2's tokenizer splits every digit before GPT-2's regex (llama.cpp's "smollm"
        // pre-tokenizer does too); transformers' GGUF conversion leaves that step out, which
        // only matters for a whitespace run before a digit. Those lines must equal llama.cpp.
        expect(got, `line ${i}: ${JSON.stringify(lines[i])}`).toBe(llamaCpp[i]);
        expect(lines[i]).toMatch(/\s\s\d/);
        differ.push(i);
      }
    });
    expect(hf.length).toBe(3200);
    expect(equal).toBe(3193);
    expect(differ.length).toBe(7);
  });

  it('renders the model’s own chat template to transformers’ apply_chat_template ids', () => {
    for (const p of ref.prompts) {
      expect(renderChat(tok, p.messages, { addGenerationPrompt: true }).ids).toEqual(p.ids);
    }
  });

  it.each(ref.prompts.map((p, i) => ({ i, T: p.ids.length })))(
    'next-token logits agree with transformers (prompt $i, $T tokens)',
    ({ i }) => {
      const p = ref.prompts[i];
      const rows = Object.keys(p.rows).map(Number);
      const V = model.config.vocabSize;
      const logits = model.logitRows(p.ids, rows);
      let maxDiff = 0;
      rows.forEach((t, r) => {
        const want = p.rows[String(t)];
        const row = logits.subarray(r * V, (r + 1) * V);
        want.topIds.forEach((id, k) => {
          maxDiff = Math.max(maxDiff, Math.abs(row[id] - want.topValues[k]));
        });
        ref.probeIds.forEach((id, k) => {
          maxDiff = Math.max(maxDiff, Math.abs(row[id] - want.probeValues[k]));
        });
        let max = -Infinity;
        for (const x of row) max = Math.max(max, x);
        let sum = 0;
        for (const x of row) sum += Math.exp(x - max);
        maxDiff = Math.max(maxDiff, Math.abs(max + Math.log(sum) - want.logSumExp));
        // The argmax is transformers' top-1.
        expect(row.indexOf(max)).toBe(want.topIds[0]);
      });
      expect(maxDiff).toBeLessThan(LOGIT_TOLERANCE);
    },
    300_000,
  );

  it.each(ref.prompts.map((p, i) => ({ i, T: p.ids.length })))(
    'greedy decoding gives transformers’ first 32 tokens (prompt $i, $T tokens)',
    ({ i }) => {
      const p = ref.prompts[i];
      const out = model.sample({
        prompt: p.ids,
        numSamples: 1,
        params: { maxTokens: p.greedy.length, temperature: 0, topP: 1, topK: -1, seed: 0 },
      });
      expect(out.sequences[0].tokens).toEqual(p.greedy);
      expect(tok.decode(out.sequences[0].tokens)).toBe(p.greedyText);
    },
    300_000,
  );

  it('spell eval and spell generate run end to end against spell serve on the imported folder', async () => {
    const serve = await startServeProcess([imported.outDir], 180_000);
    try {
      const evalDir = join(dir, 'eval');
      const ev = await spell([
        ...['eval', '--endpoint', `${serve.url}/v1`, '--model', 'model', '--suite', 'synthetic'],
        ...['--tasks', 'qa,mc', '--limit', '1', '--n', '1', '--max-tokens', '8'],
        ...['--max-input-len', '200', '--concurrency', '1', '--out', evalDir, '--no-progress'],
      ]);
      expect(ev.err).not.toMatch(/Error|\n\s+at /);
      expect(ev.code).toBe(0);
      const summary = JSON.parse(readFileSync(join(evalDir, 'summary.json'), 'utf8')) as {
        generationFailures: number;
        result: { tasks: { task: string; complete: number; samples: number }[] };
      };
      expect(summary.generationFailures).toBe(0);
      expect(summary.result.tasks.map((t) => [t.task, t.complete, t.samples])).toEqual([
        ['qa', 1, 1],
        ['mc', 1, 1],
      ]);
      const samples = readFileSync(join(evalDir, 'samples.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { response: string; promptTokens: number });
      for (const r of samples) {
        // Middle-truncated to 200 tokens by the server's own tokenizer; a real (English) reply.
        expect(r.promptTokens).toBe(200);
        expect(r.response).toMatch(/[A-Za-z]{3}/);
        expect(r.response).not.toContain('<|im_');
      }

      const out = join(dir, 'gen', 'data.jsonl');
      const gen = await spell([
        ...['generate', '--endpoint', `${serve.url}/v1`, '--model', 'model', '--out', out],
        ...['--tasks', 'qa', '--questions', '1', '--max-attempts', '1', '--group-size', '2'],
        ...['--votes', '0', '--max-tokens', '48', '--concurrency', '1', '--docs-per-question', '1'],
      ]);
      expect(gen.err).not.toMatch(/Error|\n\s+at /);
      expect(gen.code).toBe(0);
      const g = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8')) as {
        slots: number;
        errors: number;
        usage: { questioner: { calls: number; completionTokens: number } };
      };
      // SmolLM2-135M rarely writes the questioner's JSON in 48 tokens (issue 22), so the question
      // may be rejected; what is checked is that the whole flow ran against the real model.
      expect([g.slots, g.errors, g.usage.questioner.calls]).toEqual([1, 0, 1]);
      expect(g.usage.questioner.completionTokens).toBeGreaterThan(0);
    } finally {
      await serve.stop();
    }
  }, 600_000);

  it('spell export --format gguf writes a GGUF llama.cpp loads, with SmolLM2’s digit-splitting pre-tokenizer', () => {
    const out = join(dir, 'gguf');
    exportModel({ source: imported.outDir, out, format: 'gguf', merge: true, ggufDtype: 'f32' });
    const file = join(out, 'model.gguf');
    // llama.cpp refuses a pre-tokenizer name it does not know ("gpt2" was refused; it says "gpt-2").
    expect(readGgufHeader(file).metadata.get('tokenizer.ggml.pre')).toBe('smollm');
    const line = 'In 2019 revenue rose 12.5% to 3,481 million.';
    expect(loadTokenizerFrom(file).encode(line)).toEqual(tok.encode(line));
    if (!existsSync(LLAMA_PY) && !peerRequired('llamacpp')) return;
    const prompt = tok.encode('The capital of France is');
    const theirs = JSON.parse(
      execFileSync(LLAMA_PY, [CHECK_EXPORT, 'gguf', file, JSON.stringify(prompt), '8'], {
        encoding: 'utf8',
        timeout: 300_000,
      }),
    ) as number[];
    const ours = model.sample({
      prompt,
      numSamples: 1,
      params: { maxTokens: 8, temperature: 0, topP: 1, topK: -1, seed: 0 },
    }).sequences[0].tokens;
    expect(theirs).toEqual(ours);
  }, 600_000);
});
