/**
 * `spell export RUN_DIR|CHECKPOINT --out DIR [--format hf|gguf] [--merge]`: a run's newest
 * checkpoint (or any checkpoint / model folder / peft adapter folder) as a plain HF folder, a
 * peft adapter folder, or a GGUF file for llama.cpp. See docs/lora-export.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors.ts';
import { exportModel } from '../../model/export.ts';
import { RunDir } from '../../train/run-dir.ts';
import { parseChoiceFlag } from '../flags.ts';

interface ExportFlags {
  out: string;
  format: string;
  merge?: boolean;
  base?: string;
  dtype: string;
}

/** A run folder → its newest checkpoint's engine folder; anything else as given. */
export function resolveExportSource(src: string): string {
  const dir = resolve(src);
  if (!existsSync(dir)) throw new ConfigurationError(`export source ${dir} does not exist`);
  if (!existsSync(join(dir, 'checkpoints'))) return dir;
  const latest = new RunDir(dir).latestCheckpoint();
  if (!latest) throw new ConfigurationError(`run ${dir} has no complete checkpoint to export`);
  const file = join(latest.dir, 'controller.json');
  const ref = (JSON.parse(readFileSync(file, 'utf8')) as { engineRef?: unknown }).engineRef;
  if (typeof ref !== 'string' || ref === '') {
    throw new ConfigurationError(`${file}: engineRef is missing`);
  }
  const engineDir = isAbsolute(ref) ? ref : resolve(latest.dir, ref);
  if (!existsSync(engineDir)) {
    throw new ConfigurationError(
      `${file}: engineRef ${engineDir} does not exist (was the run trained on a remote engine?)`,
    );
  }
  return engineDir;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'export a run or checkpoint as an HF folder (LoRA merged, or the peft adapter alone) or a GGUF for llama.cpp',
    )
    .argument('<source>', 'a run folder (its newest checkpoint), a checkpoint or a model folder')
    .requiredOption('--out <dir>', 'output folder (replaced atomically)')
    .option('--format <f>', 'hf | gguf', 'hf')
    .option('--merge', 'merge LoRA adapters into the base weights (always done for gguf)')
    .option('--base <dir>', "an adapter's base model folder (default: from adapter_config.json)")
    .option('--dtype <t>', 'gguf matrix type: f16 | f32', 'f16')
    .action((source: string, o: ExportFlags) => {
      const format = parseChoiceFlag(o.format, '--format', ['hf', 'gguf'] as const);
      const ggufDtype = parseChoiceFlag(o.dtype, '--dtype', ['f16', 'f32'] as const);
      const res = exportModel({
        source: resolveExportSource(source),
        out: o.out,
        format,
        merge: o.merge === true,
        ...(o.base ? { base: resolve(o.base) } : {}),
        ggufDtype,
      });
      process.stdout.write(`${res.kind} → ${res.out} (${res.files.join(', ')})\n`);
    });
}
