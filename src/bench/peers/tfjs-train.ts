/**
 * Peer: TensorFlow.js (wasm backend) training the bench's Qwen3 model — the same config and batch
 * shape as spell's training measurement — written in TF.js ops: embedding as
 * matMul(oneHot(ids), E) (the gather gradient has no wasm kernel), RMSNorm, RoPE (rotate-half),
 * causal grouped-query attention with per-head q/k norm, SwiGLU, tied LM head, summed token
 * cross-entropy, global-norm clipping and Adam. One step = forward + backward + update, timed
 * like spell's. The peer starts from spell's own random weights and its initial loss is checked
 * against spell's forward on the same batch, so a wrong peer model cannot post a figure
 * unnoticed. Loaded only if installed; the small TF.js surface used is typed locally.
 */
import { Rng } from '../../core/index.ts';
import { Qwen3Model, paramTable, qwen3Config } from '../../model/index.ts';
import type { Qwen3Config } from '../../model/index.ts';
import type { ModelResult, ModelWorkload } from '../model-bench.ts';
import { sig } from '../timing.ts';
import { hasFunctions, importOptional, timeRunsAsync } from './optional-import.ts';
import type { PeerUnavailable } from './optional-import.ts';

export const TFJS_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] as const;
export const TFJS_INSTALL =
  'npm install --no-save @tensorflow/tfjs@4 @tensorflow/tfjs-backend-wasm@4';

interface TfTensor {
  readonly shape: readonly number[];
  dispose(): void;
  data(): Promise<ArrayLike<number>>;
}
type TfArg = TfTensor | number;
interface TfOptimizer {
  applyGradients(grads: Record<string, TfTensor>): void;
  dispose(): void;
}
interface TfModule {
  readonly version: Readonly<Record<string, string>>;
  enableProdMode(): void;
  setBackend(name: string): Promise<boolean>;
  getBackend(): string;
  tensor(values: Float32Array | Int32Array, shape: readonly number[], dtype: string): TfTensor;
  variable(initial: TfTensor, trainable: boolean, name: string): TfTensor;
  tidy<T>(fn: () => T): T;
  oneHot(indices: TfTensor, depth: number): TfTensor;
  cast(x: TfTensor, dtype: string): TfTensor;
  matMul(a: TfTensor, b: TfTensor, transposeA?: boolean, transposeB?: boolean): TfTensor;
  reshape(x: TfTensor, shape: readonly number[]): TfTensor;
  transpose(x: TfTensor, perm: readonly number[]): TfTensor;
  split(x: TfTensor, n: number, axis: number): TfTensor[];
  concat(xs: TfTensor[], axis: number): TfTensor;
  add(a: TfArg, b: TfArg): TfTensor;
  mul(a: TfArg, b: TfArg): TfTensor;
  div(a: TfArg, b: TfArg): TfTensor;
  minimum(a: TfArg, b: TfArg): TfTensor;
  addN(xs: TfTensor[]): TfTensor;
  neg(x: TfTensor): TfTensor;
  square(x: TfTensor): TfTensor;
  sqrt(x: TfTensor): TfTensor;
  rsqrt(x: TfTensor): TfTensor;
  sigmoid(x: TfTensor): TfTensor;
  softmax(x: TfTensor): TfTensor;
  logSoftmax(x: TfTensor): TfTensor;
  mean(x: TfTensor, axis: number, keepDims: boolean): TfTensor;
  sum(x: TfTensor): TfTensor;
  variableGrads(
    f: () => TfTensor,
    varList: TfTensor[],
  ): { value: TfTensor; grads: Record<string, TfTensor> };
  readonly train: { adam(lr: number, beta1: number, beta2: number, eps: number): TfOptimizer };
}

/** spell's training figure for one backend beside the peer's. */
export interface TfjsRatio {
  readonly backend: string;
  readonly threads: number;
  readonly spellTrainTokensPerSec: number;
  /** spell / TF.js: above 1 means spell trains faster. */
  readonly spellToPeer: number;
}

export interface TfjsTrainReport {
  readonly available: true;
  readonly package: string;
  readonly version: string;
  readonly backend: string;
  /** TF.js wasm runs single-threaded under Node (setThreadsCount has no effect there). */
  readonly threads: 1;
  readonly parameters: number;
  readonly workload: { readonly batch: number; readonly seqLen: number };
  readonly trainTokensPerSec: number;
  readonly medianTrainTokensPerSec: number;
  readonly runs: number;
  /** Mean token loss before training, TF.js vs spell on the same weights and batch. */
  readonly initialLoss: { readonly tfjs: number; readonly spell: number; readonly absDiff: number };
  /** Mean token loss after the timed steps (finite = the steps really ran). */
  readonly lossAfter: number;
  readonly spell: TfjsRatio[];
  readonly note: string;
}

export interface TfjsTrainOptions {
  readonly config: Readonly<Record<string, number | boolean>>;
  readonly workload: Pick<ModelWorkload, 'batch' | 'seqLen'>;
  readonly budgetMs: number;
  /** spell's model results, for the ratios. */
  readonly spell: readonly ModelResult[];
  /** Modules to import (umbrella, wasm backend); only tests change them. */
  readonly specifiers?: readonly [string, string];
}

function isTfModule(m: unknown): m is TfModule {
  return hasFunctions(m, ['setBackend', 'variableGrads', 'matMul', 'oneHot', 'enableProdMode']);
}

/**
 * The peer's parameters: its name, spell's HF tensor name, and whether the HF (out, in) linear
 * weight is transposed to TF.js's (in, out). Embedding and LM head stay (V, C).
 */
function paramMap(c: Qwen3Config): [string, string, boolean][] {
  const out: [string, string, boolean][] = [['embed', 'model.embed_tokens.weight', false]];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    out.push(
      [`l${l}.inNorm`, `${p}input_layernorm.weight`, false],
      [`l${l}.wq`, `${p}self_attn.q_proj.weight`, true],
      [`l${l}.wk`, `${p}self_attn.k_proj.weight`, true],
      [`l${l}.wv`, `${p}self_attn.v_proj.weight`, true],
      [`l${l}.qNorm`, `${p}self_attn.q_norm.weight`, false],
      [`l${l}.kNorm`, `${p}self_attn.k_norm.weight`, false],
      [`l${l}.wo`, `${p}self_attn.o_proj.weight`, true],
      [`l${l}.postNorm`, `${p}post_attention_layernorm.weight`, false],
      [`l${l}.wg`, `${p}mlp.gate_proj.weight`, true],
      [`l${l}.wu`, `${p}mlp.up_proj.weight`, true],
      [`l${l}.wd`, `${p}mlp.down_proj.weight`, true],
    );
  }
  out.push(['finalNorm', 'model.norm.weight', false]);
  if (!c.tieWordEmbeddings) out.push(['lmHead', 'lm_head.weight', false]);
  return out;
}

/** (rows, cols) row-major → (cols, rows) row-major. */
function transposed(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < cols; k++) out[k * rows + r] = src[r * cols + k];
  return out;
}

// Variable names are global in a TF.js engine; a per-run prefix lets the bench run twice.
let runCounter = 0;

/** Time TF.js (wasm) training steps on the bench model; unavailable when not installed. */
export async function runTfjsTrainPeer(
  opts: TfjsTrainOptions,
): Promise<TfjsTrainReport | PeerUnavailable> {
  const [umbrella, wasm] = opts.specifiers ?? TFJS_PACKAGES;
  const tfLoaded = await importOptional(umbrella);
  if (!tfLoaded.ok) return { available: false, install: TFJS_INSTALL, reason: tfLoaded.reason };
  if (!isTfModule(tfLoaded.module)) {
    return { available: false, install: TFJS_INSTALL, reason: `${umbrella} has no tf API` };
  }
  const tf = tfLoaded.module;
  // Prod mode skips per-op NaN checks and silences the "install tfjs-node" banner.
  tf.enableProdMode();
  const wasmLoaded = await importOptional(wasm);
  if (!wasmLoaded.ok) return { available: false, install: TFJS_INSTALL, reason: wasmLoaded.reason };
  if (!(await tf.setBackend('wasm'))) {
    return { available: false, install: TFJS_INSTALL, reason: 'the wasm backend failed to start' };
  }

  const c = qwen3Config(opts.config);
  const { batch: B, seqLen: T } = opts.workload;
  const N = B * T;
  const H = c.numHeads;
  const KVH = c.numKvHeads;
  const G = H / KVH;
  const D = c.headDim;
  const V = c.vocabSize;
  const rng = new Rng(99);
  const prefix = `spellbench${runCounter++}.`;

  // spell's bench model (same seed as model-bench.ts) supplies the weights and the check loss.
  const spellModel = Qwen3Model.random(c, 7);
  const table = paramTable(c);
  const vars = new Map<string, TfTensor>();
  let parameters = 0;
  for (const [name, hfName, transpose] of paramMap(c)) {
    const e = table.byName.get(hfName);
    if (!e) throw new Error(`tfjs peer: spell has no parameter ${hfName}`);
    parameters += e.size;
    const src = spellModel.params.subarray(e.offset, e.offset + e.size);
    const [rows, cols] = e.shape;
    const t = transpose
      ? tf.tensor(transposed(src, rows, cols), [cols, rows], 'float32')
      : tf.tensor(Float32Array.from(src), e.shape, 'float32');
    vars.set(name, tf.variable(t, true, prefix + name));
    t.dispose();
  }
  const P = (name: string): TfTensor => {
    const v = vars.get(name);
    if (!v) throw new Error(`tfjs peer: no parameter ${name}`);
    return v;
  };

  // Inputs and constants: ids/targets (N), RoPE tables (1, T, 1, D) for rotate-half, and an
  // additive causal mask (G·T, T) for the grouped layout (row g·T + t sees columns ≤ t).
  const ids = Int32Array.from({ length: N }, () => rng.int(V));
  const targets = Int32Array.from({ length: N }, () => rng.int(V));
  const cos = new Float32Array(T * D);
  const sin = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < D / 2; i++) {
      const ang = t / Math.pow(c.ropeTheta, (2 * i) / D);
      cos[t * D + i] = cos[t * D + i + D / 2] = Math.cos(ang);
      sin[t * D + i] = sin[t * D + i + D / 2] = Math.sin(ang);
    }
  }
  const mask = new Float32Array(G * T * T);
  for (let r = 0; r < G * T; r++) {
    for (let j = (r % T) + 1; j < T; j++) mask[r * T + j] = -1e9;
  }
  const idsT = tf.tensor(ids, [N], 'int32');
  const xOneHot = tf.tidy(() => tf.cast(tf.oneHot(idsT, V), 'float32'));
  const yOneHot = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor(targets, [N], 'int32'), V), 'float32'));
  const cosT = tf.tensor(cos, [1, T, 1, D], 'float32');
  const sinT = tf.tensor(sin, [1, T, 1, D], 'float32');
  const maskT = tf.tensor(mask, [G * T, T], 'float32');
  const constants = [idsT, xOneHot, yOneHot, cosT, sinT, maskT];

  const rms = (x: TfTensor, w: TfTensor): TfTensor =>
    tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), c.rmsNormEps))), w);
  const rope = (x: TfTensor): TfTensor => {
    const [a, b] = tf.split(x, 2, -1);
    return tf.add(tf.mul(x, cosT), tf.mul(tf.concat([tf.neg(b), a], -1), sinT));
  };
  const lossFn = (): TfTensor => {
    let x = tf.matMul(xOneHot, P('embed')); // (N, C)
    for (let l = 0; l < c.numLayers; l++) {
      const h = rms(x, P(`l${l}.inNorm`));
      const q = rope(rms(tf.reshape(tf.matMul(h, P(`l${l}.wq`)), [B, T, H, D]), P(`l${l}.qNorm`)));
      const k = rope(
        rms(tf.reshape(tf.matMul(h, P(`l${l}.wk`)), [B, T, KVH, D]), P(`l${l}.kNorm`)),
      );
      const v = tf.reshape(tf.matMul(h, P(`l${l}.wv`)), [B, T, KVH, D]);
      // Query heads of one kv group stacked along rows: (B, KVH, G·T, D) against (B, KVH, T, D).
      const qg = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [B, KVH, G * T, D]);
      const kt = tf.transpose(k, [0, 2, 1, 3]);
      const vt = tf.transpose(v, [0, 2, 1, 3]);
      const scores = tf.add(tf.mul(tf.matMul(qg, kt, false, true), 1 / Math.sqrt(D)), maskT);
      const o = tf.matMul(tf.softmax(scores), vt); // (B, KVH, G·T, D)
      const merged = tf.reshape(tf.transpose(tf.reshape(o, [B, H, T, D]), [0, 2, 1, 3]), [
        N,
        H * D,
      ]);
      x = tf.add(x, tf.matMul(merged, P(`l${l}.wo`)));
      const h2 = rms(x, P(`l${l}.postNorm`));
      const g = tf.matMul(h2, P(`l${l}.wg`));
      const u = tf.matMul(h2, P(`l${l}.wu`));
      x = tf.add(x, tf.matMul(tf.mul(tf.mul(g, tf.sigmoid(g)), u), P(`l${l}.wd`)));
    }
    const xf = rms(x, P('finalNorm'));
    const logits = tf.matMul(xf, P(c.tieWordEmbeddings ? 'embed' : 'lmHead'), false, true);
    // Summed over tokens, as spell's cross_entropy loss (Tinker semantics).
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), yOneHot)));
  };

  // Same optimizer settings as spell's model bench: Adam(1e-3, 0.9, 0.95, 1e-8), clip norm 1.
  const optimizer = tf.train.adam(1e-3, 0.9, 0.95, 1e-8);
  const varList = [...vars.values()];
  let lossAfter = NaN;
  const step = async (): Promise<void> => {
    const { value, grads } = tf.variableGrads(lossFn, varList);
    const scaled = tf.tidy(() => {
      const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
      const scale = tf.minimum(1, tf.div(1, norm));
      const out: Record<string, TfTensor> = {};
      for (const [name, g] of Object.entries(grads)) out[name] = tf.mul(g, scale);
      return out;
    });
    optimizer.applyGradients(scaled);
    lossAfter = (await value.data())[0] / N;
    for (const t of [value, ...Object.values(grads), ...Object.values(scaled)]) t.dispose();
  };
  try {
    const data = Array.from({ length: B }, (_, b) => ({
      modelInput: [...ids.subarray(b * T, (b + 1) * T)],
      targetTokens: [...targets.subarray(b * T, (b + 1) * T)],
      weights: new Array<number>(T).fill(1),
    }));
    const spellLoss = spellModel.forward(data, 'cross_entropy').loss / N;
    const lossT = tf.tidy(lossFn);
    const tfLoss = (await lossT.data())[0] / N;
    lossT.dispose();
    const t = await timeRunsAsync(step, opts.budgetMs, 2, 50);
    const tokensPerSec = N / t.best;
    return {
      available: true,
      package: umbrella,
      version: tf.version.tfjs ?? tf.version['tfjs-core'] ?? 'unknown',
      backend: tf.getBackend(),
      threads: 1,
      parameters,
      workload: { batch: B, seqLen: T },
      trainTokensPerSec: sig(tokensPerSec),
      medianTrainTokensPerSec: sig(N / t.median),
      runs: t.runs,
      initialLoss: {
        tfjs: sig(tfLoss, 6),
        spell: sig(spellLoss, 6),
        absDiff: sig(Math.abs(tfLoss - spellLoss), 2),
      },
      lossAfter: sig(lossAfter, 4),
      spell: opts.spell.map((r) => ({
        backend: r.backend,
        threads: r.threads,
        spellTrainTokensPerSec: r.trainTokensPerSec,
        spellToPeer: sig(r.trainTokensPerSec / tokensPerSec),
      })),
      note:
        'TF.js wasm (SIMD, one thread under Node); embedding as one-hot matMul adds 2 × N·V·C ' +
        'multiply-adds per step that spell does not pay (the wasm backend has no gather gradient)',
    };
  } finally {
    optimizer.dispose();
    for (const t of [...constants, ...varList]) t.dispose();
  }
}
