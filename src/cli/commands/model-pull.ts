/** `spell model pull HF_REPO_ID`: fetch a hub model into the Hugging Face cache, print its folder. */
import type { Command } from 'commander';
import { pullModel } from '../../hub/index.ts';

export function registerModelPull(model: Command): void {
  model
    .command('pull')
    .description(
      'download a Hugging Face hub model (config, safetensors, tokenizer, generation config, chat template) into the HF cache and print its snapshot folder',
    )
    .argument('<repo>', 'hub repo id, e.g. HuggingFaceTB/SmolLM2-135M-Instruct')
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .option(
      '--cache-dir <dir>',
      'cache folder (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)',
    )
    .action(async (repo: string, o: { revision: string; cacheDir?: string }) => {
      const res = await pullModel({
        repo,
        revision: o.revision,
        ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
        onFile: (file, action, bytes) => {
          const size = action === 'cached' ? '' : ` (${(bytes / 1e6).toFixed(1)} MB)`;
          process.stderr.write(`${action.padEnd(10)} ${file}${size}\n`);
        },
      });
      process.stderr.write(`${repo}@${o.revision} = commit ${res.commit}\n`);
      process.stdout.write(`${res.snapshotDir}\n`);
    });
}
