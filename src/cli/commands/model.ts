/**
 * `spell model init`: build a model folder (BPE tokenizer + random Qwen3 weights) from a corpus.
 * `spell model import`: a GGUF file or HF folder → an HF-format folder the engine loads fast.
 */
import type { Command } from 'commander';
import { defaultCorpusPath } from '../../data/index.ts';
import { importModel } from '../../model/import-model.ts';
import { parseIntFlag } from '../flags.ts';
import { DEFAULT_MODEL_INIT, initModelFolder } from '../../model/init-folder.ts';
import { registerModelPull } from './model-pull.ts';

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
          vocabSize: parseIntFlag(o.vocabSize, '--vocab-size', { min: 1 }),
          seed: parseIntFlag(o.seed, '--seed', { min: 0 }),
          hiddenSize: parseIntFlag(o.hiddenSize, '--hidden-size', { min: 1 }),
          layers: parseIntFlag(o.layers, '--layers', { min: 1 }),
          heads: parseIntFlag(o.heads, '--heads', { min: 1 }),
          kvHeads: parseIntFlag(o.kvHeads, '--kv-heads', { min: 1 }),
          intermediateSize: parseIntFlag(o.intermediateSize, '--intermediate-size', { min: 1 }),
          maxPositions: parseIntFlag(o.maxPositions, '--max-positions', { min: 1 }),
        });
        process.stdout.write(
          `wrote ${o.out}: vocab ${res.vocab}, about ${(res.params / 1e6).toFixed(2)}M parameters\n`,
        );
      },
    );
  model
    .command('import')
    .description(
      'import a GGUF file or an HF model folder (Llama, Qwen2, Qwen3) as an fp32 HF folder the engine loads',
    )
    .argument('<src>', 'a .gguf file or an HF model folder')
    .requiredOption('--out <dir>', 'output model folder (must not exist or be empty)')
    .action((src: string, o: { out: string }) => {
      const t0 = performance.now();
      const res = importModel(src, o.out);
      const types = Object.entries(res.tensorTypes)
        .map(([t, n]) => `${n} ${t}`)
        .join(', ');
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      process.stdout.write(
        `imported ${res.family} ${res.source === 'gguf' ? 'GGUF' : 'HF folder'} into ${res.outDir}: ${(res.params / 1e6).toFixed(1)}M parameters from ${types} tensors in ${seconds}s\n`,
      );
    });
}
