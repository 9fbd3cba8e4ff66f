/**
 * Shared-prompt packing for forward and forwardBackward. A SPELL responder group is G datums that
 * share a long prompt and differ in a short completion; run one at a time, the prompt is computed
 * G times, forward and backward. Here datums sharing a prefix are packed into ONE sequence:
 *
 *   [ prefix (P rows) | suffix of member 0 | suffix of member 1 | … ]
 *
 * where P is the number of leading rows on which every member has the same input token AND the
 * same target (so each packed row has exactly one target), and a member's suffix is its rows
 * P..T−1. RoPE reads per-token positions (a suffix continues at position P) and attention reads
 * segments (a suffix row sees the prefix and its own earlier rows, never another member's), so
 * every packed row computes exactly what the member's own sequence would, and the backward
 * through the shared rows sums the members' gradients. Cost: P + Σ (T_i − P) rows instead of
 * Σ T_i.
 *
 * Which datums to pack: sort the datums by their (input, target) rows; the longest common prefix
 * of a contiguous run in that order is the minimum of its neighbours' LCPs. A run is split at its
 * minima recursively, and kept whole when packing it costs fewer rows than its best split (each
 * pack sharing at least `minShared` rows). Packs longer than `maxTokens` rows (workspace memory)
 * are cut into consecutive chunks that fit. Pure functions, no I/O.
 */
import type { Datum } from '../core/policy-types.ts';
import type { AttentionSegments } from './kernels/flash-attention.ts';

/** Per-token positions and attention segments of a packed sequence. */
export interface PackedLayout {
  /** (N) RoPE position of each packed row. */
  readonly positions: Int32Array;
  readonly segments: AttentionSegments;
}

/** Datums run as one packed sequence. */
export interface Pack {
  /** Datum indices, in packing order. */
  readonly members: readonly number[];
  /** Shared leading rows P (identical input and target in every member). */
  readonly prefix: number;
  /** Packed rows N = P + Σ (T_i − P). */
  readonly length: number;
  readonly tokens: Int32Array; // (N) input tokens
  readonly targets: Int32Array; // (N) target tokens
  readonly layout: PackedLayout;
  /** Packed row of member m's row P (its first own row); its row t ≥ P is starts[m] + t − P. */
  readonly starts: readonly number[];
  /** (N) the member (position in `members`) owning each row; −1 on the shared rows. */
  readonly rowMember: Int32Array;
}

/** What one call runs: packs, and the datums that run alone. */
export interface SharingPlan {
  readonly packs: readonly Pack[];
  readonly singles: readonly number[];
}

/** How eagerly to pack. */
export interface SharingOptions {
  /** Pack only datums sharing at least this many leading rows. */
  readonly minShared: number;
  /** Largest packed sequence (rows); a bigger pack is cut into chunks. */
  readonly maxTokens: number;
}

/** Rows t < n on which a and b have the same input and target. */
export function sharedRows(a: Datum, b: Datum): number {
  const n = Math.min(a.modelInput.length, b.modelInput.length);
  let t = 0;
  while (t < n && a.modelInput[t] === b.modelInput[t] && a.targetTokens[t] === b.targetTokens[t]) {
    t++;
  }
  return t;
}

/** Lexicographic order of the (input, target) rows; a prefix sorts first. */
function compareRows(a: Datum, b: Datum): number {
  const t = sharedRows(a, b);
  const n = Math.min(a.modelInput.length, b.modelInput.length);
  if (t === n) return a.modelInput.length - b.modelInput.length;
  if (a.modelInput[t] !== b.modelInput[t]) return a.modelInput[t] - b.modelInput[t];
  return a.targetTokens[t] - b.targetTokens[t];
}

interface Run {
  readonly members: number[]; // datum indices
  readonly prefix: number;
}

/** Choose the packs of a call (see the header). */
export function planSharing(data: readonly Datum[], opts: SharingOptions): SharingPlan {
  const order_D = data.map((_, i) => i).sort((i, j) => compareRows(data[i], data[j]) || i - j);
  // adj_D[k]: shared rows of order_D[k] and order_D[k + 1]
  const adj_D = order_D.slice(1).map((d, k) => sharedRows(data[order_D[k]], data[d]));
  const len = (i: number): number => data[i].modelInput.length;

  // Best runs of order_D[lo..hi] and their total packed rows.
  const best = (lo: number, hi: number): { cost: number; runs: Run[] } => {
    if (lo === hi) return { cost: len(order_D[lo]), runs: [] };
    let m = Infinity;
    for (let k = lo; k < hi; k++) m = Math.min(m, adj_D[k]);
    let cost = 0;
    const runs: Run[] = [];
    let start = lo;
    for (let k = lo; k <= hi; k++) {
      if (k === hi || adj_D[k] === m) {
        const part = best(start, k);
        cost += part.cost;
        runs.push(...part.runs);
        start = k + 1;
      }
    }
    if (m >= opts.minShared) {
      const members = order_D.slice(lo, hi + 1);
      const packed = m + members.reduce((s, i) => s + len(i) - m, 0);
      if (packed < cost) return { cost: packed, runs: [{ members, prefix: m }] };
    }
    return { cost, runs };
  };

  const runs = data.length > 0 ? best(0, data.length - 1).runs : [];
  const packs: Pack[] = [];
  const packed = new Set<number>();
  for (const run of runs) {
    for (const chunk of fitChunks(data, run, opts)) {
      if (chunk.members.length < 2) continue;
      packs.push(buildPack(data, chunk.members, chunk.prefix));
      chunk.members.forEach((i) => packed.add(i));
    }
  }
  const singles = data.map((_, i) => i).filter((i) => !packed.has(i));
  return { packs, singles };
}

/** Cut a run into consecutive chunks of at most maxTokens packed rows (each re-measuring P). */
function fitChunks(data: readonly Datum[], run: Run, opts: SharingOptions): Run[] {
  const len = (i: number): number => data[i].modelInput.length;
  const cost = (members: readonly number[], P: number): number =>
    P + members.reduce((s, i) => s + len(i) - P, 0);
  if (cost(run.members, run.prefix) <= opts.maxTokens) return [run];
  const chunks: Run[] = [];
  let members: number[] = [];
  let P = 0;
  for (const i of run.members) {
    const nextP =
      members.length === 0 ? len(i) : Math.min(P, sharedRows(data[members[0]], data[i]));
    if (members.length > 0 && cost([...members, i], nextP) > opts.maxTokens) {
      chunks.push({ members, prefix: P });
      members = [i];
      P = len(i);
    } else {
      members.push(i);
      P = nextP;
    }
  }
  if (members.length > 0) chunks.push({ members, prefix: P });
  return chunks.filter((c) => c.members.length < 2 || c.prefix >= opts.minShared);
}

/** Lay out the packed sequence of `members` sharing their first P rows. */
export function buildPack(data: readonly Datum[], members: readonly number[], P: number): Pack {
  const N = P + members.reduce((s, i) => s + data[i].modelInput.length - P, 0);
  const tokens = new Int32Array(N);
  const targets = new Int32Array(N);
  const positions = new Int32Array(N);
  const segStart = new Int32Array(N);
  const rowMember = new Int32Array(N).fill(-1);
  const first = data[members[0]];
  for (let t = 0; t < P; t++) {
    tokens[t] = first.modelInput[t];
    targets[t] = first.targetTokens[t];
    positions[t] = t;
  }
  const starts: number[] = [];
  let r = P;
  members.forEach((i, m) => {
    const d = data[i];
    const start = r;
    starts.push(start);
    for (let t = P; t < d.modelInput.length; t++, r++) {
      tokens[r] = d.modelInput[t];
      targets[r] = d.targetTokens[t];
      positions[r] = t;
      segStart[r] = start;
      rowMember[r] = m;
    }
  });
  return {
    members,
    prefix: P,
    length: N,
    tokens,
    targets,
    layout: { positions, segments: { prefix: P, segStart } },
    starts,
    rowMember,
  };
}
