/** `spell model init`: build a model folder (BPE tokenizer + random Qwen3 weights) from a corpus. */
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors.ts';
import { defaultCorpusPath } from '../../data/index.ts';
import { DEFAULT_MODEL_INIT, initModelFolder } from '../../train/default-model.ts';
import { registerModelPull } from './model-pull.ts';

function int(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new ConfigurationError(`${flag} expects a positive integer, got "${value}"`);
  }
  return n;
}

export function registerModel(program: Command): void {
  const model = program
    .command('model')
    .description('create model folders for the embedded engine');
  registerModelPull(model);
  const d = DEFAULT_MODEL_INIT;
  model
    .command('init')
    .description(
      'train a byte-level BPE tokenizer on a corpus and write a randomly initialised Qwen3 model folder',
    )
    .requiredOption('--out <dir>', 'output model folder')
    .option('--data <paths...>', 'corpus files or folders (default: the bundled corpus)')
    .option('--vocab-size <n>', 'tokenizer vocabulary size', String(d.vocabSize))
    .option('--seed <s>', 'weight initialisation seed', String(d.seed))
    .option('--hidden-size <n>', 'hidden size', String(d.hiddenSize))
    .option('--layers <n>', 'decoder layers', String(d.layers))
    .option('--heads <n>', 'attention heads', String(d.heads))
    .option('--kv-heads <n>', 'key/value heads', String(d.kvHeads))
    .option('--intermediate-size <n>', 'MLP width', String(d.intermediateSize))
    .option('--max-positions <n>', 'maximum context length', String(d.maxPositions))
    .action(
      async (o: {
        out: string;
        data?: string[];
        vocabSize: string;
        seed: string;
        hiddenSize: string;
        layers: string;
        heads: string;
        kvHeads: string;
        intermediateSize: string;
        maxPositions: string;
      }) => {
        const res = await initModelFolder({
          corpusPaths: o.data ?? [defaultCorpusPath()],
          outDir: o.out,
          vocabSize: int(o.vocabSize, '--vocab-size'),
          seed: Number(o.seed),
          hiddenSize: int(o.hiddenSize, '--hidden-size'),
          layers: int(o.layers, '--layers'),
          heads: int(o.heads, '--heads'),
          kvHeads: int(o.kvHeads, '--kv-heads'),
          intermediateSize: int(o.intermediateSize, '--intermediate-size'),
          maxPositions: int(o.maxPositions, '--max-positions'),
        });
        process.stdout.write(
          `wrote ${o.out}: vocab ${res.vocab}, about ${(res.params / 1e6).toFixed(2)}M parameters\n`,
        );
      },
    );
}
