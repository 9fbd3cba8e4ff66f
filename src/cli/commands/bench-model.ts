/**
 * `spell bench model --model DIR`: the embedded engine's prefill, decode, training and shared-prompt
 * group speed on a model folder, interleaved with PyTorch CPU and llama.cpp running the same phases
 * (src/bench/model-speed.ts). Peers are optional: a missing one is reported with its install command.
 * `--init-random` first writes a random-weight model of SmolLM2-135M's shape into DIR when DIR has
 * no config.json (the speed depends on the shapes, not the weights).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/index.ts';
import { parseIntFlag } from '../flags.ts';
import { FULL_SIZES, QUICK_SIZES, modelPhases, runModelSpeed } from '../../bench/model-speed.ts';
import type { LivePeer, PeerStatus, PhaseSizes } from '../../bench/model-speed.ts';
import { PeerProcess, peerPython } from '../../bench/peer-process.ts';
import { qwen3Config } from '../../model/config.ts';
import { Qwen3Model } from '../../model/model.ts';
import { loadModelFolder, writeModelFolder } from '../../model/model-folder.ts';

interface BenchModelCliOptions {
  readonly model: string;
  readonly json: boolean;
  readonly repeats: string;
  readonly phases?: string;
  readonly quick: boolean;
  readonly initRandom: boolean;
  readonly peers: boolean;
  readonly gguf?: string;
  readonly peersHome?: string;
  readonly groupPrompt?: string;
  readonly groupSize?: string;
  readonly groupAnswer?: string;
}

/** SmolLM2-135M's config (Llama family) with a longer position limit for the 8k prefill. */
const SMOLLM2_SHAPE = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 576,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  head_dim: 64,
  intermediate_size: 1536,
  vocab_size: 49152,
  max_position_embeddings: 8192 + 256,
  rope_theta: 100000,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
};

const SCRIPT = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'peers',
  'bench',
  'model_peer.py',
);

/** Keep only the phases whose name starts with one of the comma-separated prefixes. */
function phaseFilter(text: string | undefined): (name: string) => boolean {
  if (!text) return () => true;
  const prefixes = text.split(',').map((s) => s.trim());
  return (name) => prefixes.some((p) => name.startsWith(p));
}

async function startPeer(
  name: string,
  python: string | null,
  install: string,
  load: Readonly<Record<string, unknown>>,
  prepare?: (p: PeerProcess) => Promise<string | null>,
): Promise<{ live: LivePeer | null; status: PeerStatus }> {
  if (!python) return { live: null, status: { available: false, reason: 'venv missing', install } };
  const proc = new PeerProcess(python, SCRIPT);
  const problem = prepare ? await prepare(proc) : null;
  const ans = problem ? { error: problem } : await proc.request(load);
  if (typeof ans.error === 'string' || ans.ok !== true) {
    await proc.close();
    const reason = typeof ans.error === 'string' ? ans.error : 'load failed';
    return { live: null, status: { available: false, reason, install } };
  }
  const attn = typeof ans.attn === 'string' ? `, attention ${ans.attn}` : '';
  const detail = `threads ${String(ans.threads)}${attn}`;
  return {
    live: { name, proc },
    status: { available: true, version: String(ans.version), detail },
  };
}

/** Registers `spell bench model` under `spell bench`. */
export function registerBenchModel(bench: Command): void {
  bench
    .command('model')
    .description('prefill/decode/training/shared-group tokens/s vs PyTorch CPU and llama.cpp')
    .requiredOption('--model <dir>', 'model folder (config.json + model.safetensors)')
    .option('--json', 'print the report as one JSON object', false)
    .option('--repeats <n>', 'interleaved repeats per phase (best is kept)', '2')
    .option('--phases <list>', 'only phases starting with these prefixes (e.g. prefill_512,train)')
    .option('--quick', 'tiny sizes (a smoke run of every phase)', false)
    .option('--init-random', "write random weights of SmolLM2-135M's shape if DIR is empty", false)
    .option(
      '--gguf <file>',
      'GGUF of the same model for llama.cpp (quantized ones are first converted to F16)',
    )
    .option('--peers-home <dir>', 'peer venvs (default $SPELL_PEERS_HOME or peers/.venv)')
    .option('--no-peers', 'spell only')
    .option('--group-prompt <n>', 'responder group: prompt tokens (default 2048; 96 with --quick)')
    .option('--group-size <G>', 'responder group: answers sampled/trained (default 4)')
    .option('--group-answer <n>', 'responder group: tokens per answer (default 128)')
    .action(async (opts: BenchModelCliOptions) => {
      const repeats = parseIntFlag(opts.repeats, '--repeats', { min: 1 });
      const dir = resolve(opts.model);
      if (!existsSync(join(dir, 'config.json'))) {
        if (!opts.initRandom) {
          throw new ConfigurationError(
            `--model: ${dir} has no config.json (pass --init-random to create a random SmolLM2-shaped model there)`,
          );
        }
        mkdirSync(dir, { recursive: true });
        const m = Qwen3Model.random(qwen3Config(SMOLLM2_SHAPE), 1);
        writeModelFolder(dir, m.config, m.table, m.params);
      }
      if (opts.gguf && !existsSync(opts.gguf)) {
        throw new ConfigurationError(`--gguf: no file ${opts.gguf}`);
      }
      const model = loadModelFolder(dir);
      const base: PhaseSizes = opts.quick ? QUICK_SIZES : FULL_SIZES;
      const g = base.group ?? { prompt: 2048, G: 4, answer: 128 };
      const sizes: PhaseSizes = {
        ...base,
        group: {
          prompt: opts.groupPrompt
            ? parseIntFlag(opts.groupPrompt, '--group-prompt', { min: 1 })
            : g.prompt,
          G: opts.groupSize ? parseIntFlag(opts.groupSize, '--group-size', { min: 1 }) : g.G,
          answer: opts.groupAnswer
            ? parseIntFlag(opts.groupAnswer, '--group-answer', { min: 1 })
            : g.answer,
        },
      };
      const keep = phaseFilter(opts.phases);
      const phases = modelPhases(model, sizes).filter((p) => keep(p.name));
      const home = resolve(opts.peersHome ?? process.env.SPELL_PEERS_HOME ?? 'peers/.venv');
      const peers: LivePeer[] = [];
      const status: Record<string, PeerStatus> = {};
      if (opts.peers) {
        const torch = await startPeer(
          'torch',
          peerPython(home, 'reference'),
          'SPELL_PEERS_HOME=<dir> bash peers/setup.sh reference',
          { op: 'load', engine: 'torch', model: dir, threads: 2 },
        );
        status.torch = torch.status;
        if (torch.live) peers.push(torch.live);
        const llamaInstall = 'SPELL_PEERS_HOME=<dir> bash peers/setup.sh llamacpp, and --gguf FILE';
        if (!opts.gguf) {
          status.llamacpp = { available: false, reason: 'no --gguf given', install: llamaInstall };
        } else {
          const src = resolve(opts.gguf);
          const f16 = /f16|f32/i.test(basename(src))
            ? src
            : join(tmpdir(), 'spell-bench', basename(src).replace(/\.gguf$/i, '.F16.gguf'));
          const llama = await startPeer(
            'llamacpp',
            peerPython(home, 'llamacpp'),
            llamaInstall,
            { op: 'load', engine: 'llamacpp', gguf: f16, threads: 2, ctx: 8192 + 256 },
            async (p) => {
              if (f16 === src || existsSync(f16)) return null;
              mkdirSync(dirname(f16), { recursive: true });
              const a = await p.request({ op: 'f16gguf', src, dst: f16 });
              return a.ok === true ? null : `F16 conversion failed: ${JSON.stringify(a)}`;
            },
          );
          status.llamacpp = llama.status;
          if (llama.live) peers.push(llama.live);
        }
      }
      try {
        const report = await runModelSpeed(model, dir, phases, peers, status, repeats, (line) =>
          process.stderr.write(`${line}\n`),
        );
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          const out = [`model ${report.model.shape} (${report.model.parameters} parameters)`];
          for (const [name, r] of Object.entries(report.phases)) {
            const figs = Object.entries(r.tokensPerSec)
              .map(([e, v]) => `${e} ${v === null ? '—' : v.toFixed(1)}`)
              .join(', ');
            out.push(`${name}: tok/s ${figs}${r.notes.length ? ` (${r.notes.join('; ')})` : ''}`);
          }
          for (const [k, v] of Object.entries(report.ratios)) out.push(`${k}: ${v}×`);
          for (const [k, s] of Object.entries(report.peers)) {
            if (!s.available)
              out.push(`peer ${k}: not available (${s.reason}); install: ${s.install}`);
          }
          process.stdout.write(`${out.join('\n')}\n`);
        }
      } finally {
        for (const p of peers) await p.proc.close();
      }
    });
}
