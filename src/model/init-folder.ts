/**
 * Builds a model folder for the embedded engine from a corpus: a byte-level BPE tokenizer trained on
 * the corpus documents and on SPELL's own role prompts (so template words are single tokens), and a
 * randomly initialised Qwen3-architecture model sized for 2 CPU cores. `spell model init` calls this;
 * the bundled `assets/model/` is its output for the bundled corpus (see docs/cli/model.md for the command).
 */
import { mkdirSync } from 'node:fs';
import { Rng } from '../core/rng.ts';
import type { Cluster } from '../data/cluster.ts';
import { readCorpus } from '../data/read/corpus.ts';
import { qwen3Config, type Qwen3Config } from './config.ts';
import { createRandomModelFolder } from './random-folder.ts';
import {
  groundingPrompt,
  questionerPrompt,
  responderPrompt,
  verifierPrompt,
} from '../spell/prompts/index.ts';
import { trainBpe } from '../text/bpe-train.ts';
import { CHATML_ADDED_TOKENS, writeTokenizerFolder } from '../text/tokenizer-files.ts';
import { loadTokenizer } from '../text/tokenizer.ts';

export interface ModelInitOptions {
  readonly corpusPaths: readonly string[];
  readonly outDir: string;
  readonly vocabSize: number;
  readonly seed: number;
  readonly hiddenSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly intermediateSize: number;
  readonly maxPositions: number;
}

export const DEFAULT_MODEL_INIT: Omit<ModelInitOptions, 'corpusPaths' | 'outDir'> = {
  vocabSize: 2048,
  seed: 1234,
  hiddenSize: 128,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  intermediateSize: 384,
  maxPositions: 4096,
};

/** Texts the tokenizer learns from: every document plus one rendering of each role prompt. */
function* tokenizerTexts(clusters: readonly Cluster[]): Generator<string> {
  for (const c of clusters) yield* c.documents;
  const rng = new Rng(0);
  const sample = clusters.slice(0, 30);
  for (const c of sample) {
    const docs = c.documents.slice(0, 3).join('\n');
    yield questionerPrompt({ task: 'docmath', documents: docs });
    yield questionerPrompt({
      task: 'qa',
      documents: docs,
      examples: [{ question: 'q', answer: 'a' }],
    });
    yield questionerPrompt({
      task: 'mc',
      documents: docs,
      targetLetter: rng.choice(['A', 'B', 'C', 'D'] as const),
    });
    yield responderPrompt({ task: 'docmath', documents: docs, question: 'What is it?' });
    yield responderPrompt({ task: 'qa', documents: docs, question: 'Who is it?' });
    yield groundingPrompt({ task: 'mc', question: 'Which one?' });
    yield verifierPrompt({ problem: 'Which one?', prediction: '12', reference: '12.0' });
  }
}

export function modelConfigFor(
  opts: Omit<ModelInitOptions, 'corpusPaths' | 'outDir'>,
  vocab: number,
  eos: number,
  bos: number,
): Qwen3Config {
  return qwen3Config({
    hidden_size: opts.hiddenSize,
    num_hidden_layers: opts.layers,
    num_attention_heads: opts.heads,
    num_key_value_heads: opts.kvHeads,
    head_dim: Math.floor(opts.hiddenSize / opts.heads),
    intermediate_size: opts.intermediateSize,
    vocab_size: vocab,
    rope_theta: 10_000,
    max_position_embeddings: opts.maxPositions,
    tie_word_embeddings: true,
    bos_token_id: bos,
    eos_token_id: eos,
  });
}

/** Write tokenizer files + config.json + model.safetensors into `outDir`. */
export async function initModelFolder(
  opts: ModelInitOptions,
): Promise<{ params: number; vocab: number }> {
  const read = await readCorpus(opts.corpusPaths);
  const bpe = trainBpe(tokenizerTexts(read.clusters), {
    vocabSize: opts.vocabSize,
    addedTokens: CHATML_ADDED_TOKENS,
  });
  mkdirSync(opts.outDir, { recursive: true });
  writeTokenizerFolder(opts.outDir, bpe, opts.maxPositions);
  const tok = loadTokenizer(opts.outDir);
  const eos = tok.eosTokenId ?? tok.requireTokenId('<|im_end|>');
  const bos = tok.padTokenId ?? eos;
  const config = modelConfigFor(opts, tok.vocabSize, eos, bos);
  createRandomModelFolder(opts.outDir, config, opts.seed);
  const params =
    tok.vocabSize * opts.hiddenSize +
    opts.layers *
      (opts.hiddenSize * (opts.hiddenSize * 2 + 2 * (opts.hiddenSize / opts.heads) * opts.kvHeads) +
        3 * opts.hiddenSize * opts.intermediateSize);
  return { params, vocab: tok.vocabSize };
}
