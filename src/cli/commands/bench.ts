/**
 * `spell bench engine`: measure the embedded engine — matmul GFLOP/s per gemm backend and thread
 * count (with the ratio to the fp32 peak) and the small bench model's forward, training and
 * sampling tokens/s. `--json` prints the whole report as one JSON object. `SPELL_NATIVE=0`
 * forces the pure-JS gemm (the same as `--backend js`). Peers (onnxruntime-node matmul, TF.js
 * wasm training) are measured beside it when installed; `--no-peers` skips them.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { SMOLLM2_135M, runLoraBench } from '../../bench/lora-bench.ts';
import { parseIntFlag } from '../flags.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { loadModelConfig } from '../../model/model-folder.ts';
import { runEngineBench, runEngineBenchWithPeers } from '../../bench/index.ts';
import type { EngineBenchReport, PeersReport } from '../../bench/index.ts';
import { setGemmBackend } from '../../model/kernels/gemm.ts';
import { registerBenchModel } from './bench-model.ts';
import type { GemmBackend } from '../../model/kernels/gemm.ts';

interface BenchEngineCliOptions {
  readonly json: boolean;
  readonly backend: 'native' | 'js' | 'all';
  readonly threads: string;
  readonly quick: boolean;
  readonly model: boolean;
  readonly peers: boolean;
}

/** "1,2" → [1, 2]; throws a ConfigurationError naming the flag on anything else. */
export function parseThreadList(text: string): number[] {
  return text.split(',').map((s) => parseIntFlag(s, '--threads', { min: 1, max: 64 }));
}

function printTable(r: EngineBenchReport): void {
  const out: string[] = [];
  out.push(`cpu: ${r.machine.cpu} × ${r.machine.cores}, node ${r.machine.node}`);
  const n = r.gemm.native;
  out.push(
    n.available
      ? `native gemm: ${String(n.isa)} ${String(n.mr)}×${String(n.nr)} tiles`
      : `native gemm: unavailable (${String(n.reason)})`,
  );
  out.push('');
  out.push(
    'matmul                                   backend  thr    GFLOP/s  vs 475 peak  max err',
  );
  for (const m of r.matmul) {
    const t = `${m.transA ? 'T' : 'N'}${m.transB ? 'T' : 'N'}`;
    const gflops = m.gflops < 10 ? m.gflops.toPrecision(3) : m.gflops.toFixed(1);
    const ratio = `${(m.peakRatio * 100).toPrecision(3)}%`;
    const name = `${m.name} (${t})`.padEnd(40);
    out.push(
      `${name} ${m.backend.padEnd(7)} ${String(m.threads).padStart(4)} ${gflops.padStart(10)} ${ratio.padStart(12)} ${m.maxAbsErr.toExponential(1).padStart(8)}`,
    );
  }
  out.push('');
  out.push(
    `goal (≥ 25% of the two-core peak on large matmuls): best ${r.goal.bestLargeGflops} GFLOP/s = ${(
      r.goal.peakRatio * 100
    ).toFixed(1)}% — ${r.goal.met ? 'met' : 'not met'}`,
  );
  if ('results' in r.model) {
    out.push('');
    out.push(
      `model: ${r.model.parameters} parameters, batch ${r.model.workload.batch}×${r.model.workload.seqLen} tokens, sampling ${r.model.workload.samples}×${r.model.workload.maxTokens}`,
    );
    out.push('backend  thr   forward tok/s   train tok/s   sample tok/s');
    for (const m of r.model.results) {
      out.push(
        `${m.backend.padEnd(7)} ${String(m.threads).padStart(4)} ${m.forwardTokensPerSec
          .toFixed(0)
          .padStart(15)} ${m.trainTokensPerSec.toFixed(0).padStart(13)} ${m.sampleTokensPerSec
          .toFixed(0)
          .padStart(14)}`,
      );
    }
  } else {
    out.push(`model: skipped (${r.model.skipped})`);
  }
  if (r.peers) out.push('', ...peerLines(r.peers));
  for (const note of r.notes) out.push(`note: ${note}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function ratio(x: number | null): string {
  return x === null ? '—' : `${x.toFixed(2)}×`;
}

/** The peer section of the table: figures and spell/peer ratios, or how to install a peer. */
function peerLines(p: PeersReport): string[] {
  const out: string[] = [];
  const o = p.onnxruntime;
  if (o.available) {
    out.push(`peer onnxruntime-node ${o.version} MatMul (inference only), opset ${o.opset}`);
    out.push(
      'shape                                    thr  peer GFLOP/s  spell GFLOP/s  spell/peer',
    );
    for (const c of o.results) {
      out.push(
        `${c.name.padEnd(40)} ${String(c.threads).padStart(3)} ${c.gflops.toFixed(1).padStart(13)} ${(
          c.spellGflops?.toFixed(1) ?? '—'
        ).padStart(14)} ${ratio(c.spellToPeer).padStart(11)}`,
      );
    }
  } else {
    out.push(`peer onnxruntime-node: not available (${o.reason}); install: ${o.install}`);
  }
  out.push('');
  const t = p.tfjs;
  if ('skipped' in t) {
    out.push(`peer TensorFlow.js: skipped (${t.skipped})`);
  } else if (t.available) {
    out.push(
      `peer TensorFlow.js ${t.version} (${t.backend}, ${t.threads} thread) training, ${t.parameters} parameters, batch ${t.workload.batch}×${t.workload.seqLen}: ${t.trainTokensPerSec.toFixed(0)} tok/s`,
    );
    out.push(
      `  initial loss on spell's weights: TF.js ${t.initialLoss.tfjs} vs spell ${t.initialLoss.spell} (|Δ| ${t.initialLoss.absDiff})`,
    );
    for (const s of t.spell) {
      out.push(
        `  spell ${s.backend} (${s.threads} thr): ${s.spellTrainTokensPerSec.toFixed(0)} tok/s = ${ratio(s.spellToPeer)} TF.js`,
      );
    }
  } else {
    out.push(`peer TensorFlow.js: not available (${t.reason}); install: ${t.install}`);
  }
  return out;
}

/** Registers `spell bench` and its `engine` subcommand. */
export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks (speed is measured, not tested)');
  bench
    .command('engine')
    .description('matmul GFLOP/s and embedded-model tokens/s (forward, training, sampling)')
    .option('--json', 'print the report as one JSON object', false)
    .addOption(
      new Option('--backend <which>', 'gemm backends to time')
        .choices(['native', 'js', 'all'])
        .default('all'),
    )
    .option('--threads <list>', 'native thread counts, comma-separated', '1,2')
    .option('--quick', 'tiny shapes and budgets (a smoke run of every section)', false)
    .option('--no-model', 'skip the model section (matmul only)')
    .option('--no-peers', 'skip the peer comparisons (onnxruntime-node, TensorFlow.js)')
    .action(async (opts: BenchEngineCliOptions) => {
      const threads = parseThreadList(opts.threads);
      let backends: GemmBackend[] = opts.backend === 'all' ? ['native', 'js'] : [opts.backend];
      if (process.env.SPELL_NATIVE === '0') {
        setGemmBackend('js');
        backends = ['js'];
      }
      const benchOpts = { backends, threads, quick: opts.quick, includeModel: opts.model };
      const report = opts.peers
        ? await runEngineBenchWithPeers(benchOpts)
        : runEngineBench(benchOpts);
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printTable(report);
    });
  registerBenchModel(bench);
  bench
    .command('lora')
    .description(
      'a LoRA training step vs a full fine-tuning step: tokens/s, peak RSS, optimizer state (JSON)',
    )
    .option('--model <dir>', 'an HF model folder (default: SmolLM2-135M shape, random weights)')
    .option('--tokens <n>', 'tokens per step (one sequence)', '128')
    .option('--steps <n>', 'timed steps per mode after one warm-up step (median reported)', '3')
    .option('--rank <r>', 'LoRA rank (alpha 32, every attention and MLP projection)', '16')
    .option('--quick', 'a tiny model instead of SmolLM2-135M shape (smoke run)', false)
    .action(
      async (o: {
        model?: string;
        tokens: string;
        steps: string;
        rank: string;
        quick: boolean;
      }) => {
        const int = (v: string, flag: string): number => parseIntFlag(v, flag, { min: 1 });
        const tokens = int(o.tokens, '--tokens');
        const steps = int(o.steps, '--steps');
        const rank = int(o.rank, '--rank');
        if (o.model !== undefined && o.quick) {
          throw new ConfigurationError('--model and --quick are exclusive');
        }
        // Validate the folder here, so a bad path is a one-line error before any process starts.
        if (o.model !== undefined) loadModelConfig(o.model);
        const hfConfig = o.quick
          ? {
              ...SMOLLM2_135M,
              hidden_size: 64,
              num_hidden_layers: 2,
              intermediate_size: 128,
              vocab_size: 512,
            }
          : SMOLLM2_135M;
        const report = await runLoraBench({
          modelDir: o.model ?? null,
          hfConfig,
          tokens,
          steps,
          rank,
          onStep: (mode, s) =>
            process.stderr.write(
              `${mode}: step ${(s.forwardBackwardSeconds + s.optimSeconds).toFixed(2)} s (forward+backward ${s.forwardBackwardSeconds.toFixed(2)}, AdamW ${s.optimSeconds.toFixed(2)}), loss ${s.loss.toFixed(4)}\n`,
            ),
        });
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      },
    );
}
