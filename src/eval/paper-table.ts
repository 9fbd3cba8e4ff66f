/**
 * The paper's Table 1 (avg@8 in %, spell-eval.md §13a) and the Figure 3 pass@k curves (§13b), for
 * side-by-side comparison with a run of the same model at the same input length. Columns: DocMath,
 * Frames, LB-MQA (mean of 2WikiMQA, HotpotQA, MuSiQue), LB-V2, Avg (mean of the four).
 */

/** One Table 1 cell group: the five columns at one input length. */
export interface PaperScores {
  readonly docmath: number;
  readonly frames: number;
  readonly lbMqa: number;
  readonly lbV2: number;
  readonly avg: number;
}

/** One Table 1 row: the model (with `+RLVR` / `+SPELL` suffix) at 16K and 100K input tokens. */
export interface PaperRow {
  readonly model: string;
  readonly at16k: PaperScores;
  readonly at100k: PaperScores;
}

const s = (
  docmath: number,
  frames: number,
  lbMqa: number,
  lbV2: number,
  avg: number,
): PaperScores => ({
  docmath,
  frames,
  lbMqa,
  lbV2,
  avg,
});

/** Table 1, row by row. */
export const PAPER_TABLE1: readonly PaperRow[] = [
  {
    model: 'Qwen2.5-7B',
    at16k: s(10.9, 27.9, 36.7, 31.2, 26.7),
    at100k: s(16.1, 24.2, 31.2, 22.7, 23.6),
  },
  {
    model: 'Qwen2.5-7B+RLVR',
    at16k: s(41.8, 41.0, 50.0, 30.2, 40.8),
    at100k: s(42.7, 40.3, 49.2, 26.0, 39.6),
  },
  {
    model: 'Qwen2.5-7B+SPELL',
    at16k: s(40.0, 39.2, 50.9, 32.3, 40.6),
    at100k: s(39.9, 40.1, 50.8, 28.2, 39.8),
  },
  {
    model: 'Qwen2.5-14B',
    at16k: s(38.0, 37.2, 41.9, 32.1, 37.3),
    at100k: s(36.2, 37.5, 43.3, 27.5, 36.1),
  },
  {
    model: 'Qwen2.5-14B+RLVR',
    at16k: s(52.2, 51.0, 63.3, 32.9, 49.9),
    at100k: s(53.2, 52.1, 64.2, 30.5, 50.0),
  },
  {
    model: 'Qwen2.5-14B+SPELL',
    at16k: s(57.6, 52.6, 63.0, 33.5, 51.7),
    at100k: s(56.8, 53.0, 63.2, 31.2, 51.1),
  },
  {
    model: 'Qwen2.5-32B',
    at16k: s(46.8, 42.6, 49.0, 33.7, 43.0),
    at100k: s(40.7, 42.2, 50.1, 28.7, 40.4),
  },
  {
    model: 'Qwen2.5-32B+RLVR',
    at16k: s(58.3, 50.0, 59.5, 32.8, 50.2),
    at100k: s(57.5, 49.9, 60.1, 32.7, 50.1),
  },
  {
    model: 'Qwen2.5-32B+SPELL',
    at16k: s(61.8, 50.2, 62.1, 34.2, 52.1),
    at100k: s(60.6, 52.2, 62.3, 34.3, 52.4),
  },
  {
    model: 'Qwen2.5-7B-Instruct',
    at16k: s(38.4, 40.3, 45.1, 29.0, 38.2),
    at100k: s(39.4, 41.4, 44.5, 28.4, 38.4),
  },
  {
    model: 'Qwen2.5-7B-Instruct+RLVR',
    at16k: s(45.0, 48.7, 59.6, 30.1, 45.9),
    at100k: s(44.1, 48.6, 57.4, 28.2, 44.6),
  },
  {
    model: 'Qwen2.5-7B-Instruct+SPELL',
    at16k: s(45.8, 46.7, 63.1, 33.2, 47.2),
    at100k: s(44.5, 48.2, 60.7, 32.4, 46.5),
  },
  {
    model: 'Qwen2.5-14B-Instruct',
    at16k: s(56.3, 51.6, 63.0, 32.2, 50.8),
    at100k: s(56.7, 52.4, 64.2, 36.6, 52.5),
  },
  {
    model: 'Qwen2.5-14B-Instruct+RLVR',
    at16k: s(56.1, 59.6, 71.0, 36.4, 55.8),
    at100k: s(56.7, 59.9, 73.4, 38.5, 57.1),
  },
  {
    model: 'Qwen2.5-14B-Instruct+SPELL',
    at16k: s(59.6, 62.1, 72.8, 36.8, 57.8),
    at100k: s(60.1, 63.9, 74.8, 40.1, 59.7),
  },
  {
    model: 'Qwen2.5-32B-Instruct',
    at16k: s(60.0, 49.9, 61.4, 36.0, 51.8),
    at100k: s(63.0, 49.4, 61.5, 36.2, 52.5),
  },
  {
    model: 'Qwen2.5-32B-Instruct+RLVR',
    at16k: s(59.9, 60.5, 70.4, 36.3, 56.8),
    at100k: s(59.7, 62.3, 69.6, 36.9, 57.1),
  },
  {
    model: 'Qwen2.5-32B-Instruct+SPELL',
    at16k: s(62.3, 61.2, 74.4, 40.1, 59.5),
    at100k: s(63.3, 62.0, 74.1, 40.8, 60.1),
  },
  {
    model: 'Qwen3-30B-A3B-Instruct(-2507)',
    at16k: s(62.3, 55.3, 70.5, 36.9, 56.3),
    at100k: s(63.0, 57.8, 70.3, 44.1, 58.8),
  },
  {
    model: 'Qwen3-30B-A3B-Instruct(-2507)+RLVR',
    at16k: s(62.5, 59.9, 71.8, 39.8, 58.5),
    at100k: s(64.0, 62.0, 72.4, 47.4, 61.5),
  },
  {
    model: 'Qwen3-30B-A3B-Instruct(-2507)+SPELL',
    at16k: s(63.0, 63.1, 75.1, 41.5, 60.7),
    at100k: s(64.9, 63.7, 74.8, 48.7, 63.0),
  },
  {
    model: 'Llama3.1-8B-Instruct',
    at16k: s(33.2, 45.6, 52.5, 29.1, 40.1),
    at100k: s(34.9, 47.3, 53.5, 27.1, 40.7),
  },
  {
    model: 'Llama3.1-8B-Instruct+RLVR',
    at16k: s(37.9, 45.0, 58.8, 27.5, 42.3),
    at100k: s(36.9, 47.6, 57.2, 26.1, 42.0),
  },
  {
    model: 'Llama3.1-8B-Instruct+SPELL',
    at16k: s(39.2, 48.9, 61.6, 28.4, 44.5),
    at100k: s(39.7, 50.8, 60.9, 26.2, 44.4),
  },
  {
    model: 'R1-Distill-Llama-8B',
    at16k: s(42.0, 50.3, 66.8, 27.9, 46.8),
    at100k: s(41.5, 52.6, 69.3, 26.4, 47.5),
  },
  {
    model: 'R1-Distill-Llama-8B+RLVR',
    at16k: s(43.4, 51.4, 67.8, 30.0, 48.2),
    at100k: s(45.4, 54.0, 68.0, 28.3, 48.9),
  },
  {
    model: 'R1-Distill-Llama-8B+SPELL',
    at16k: s(48.9, 53.4, 68.4, 30.2, 50.2),
    at100k: s(49.2, 54.3, 70.0, 29.3, 50.7),
  },
  {
    model: 'R1-Distill-Qwen-14B',
    at16k: s(57.7, 59.2, 72.4, 36.2, 56.4),
    at100k: s(59.5, 60.6, 73.3, 33.3, 56.7),
  },
  {
    model: 'R1-Distill-Qwen-14B+RLVR',
    at16k: s(59.6, 61.7, 74.6, 37.2, 58.3),
    at100k: s(61.0, 63.8, 76.0, 35.9, 59.2),
  },
  {
    model: 'R1-Distill-Qwen-14B+SPELL',
    at16k: s(61.6, 62.3, 76.2, 39.0, 59.8),
    at100k: s(61.1, 62.8, 75.7, 37.9, 59.4),
  },
  {
    model: 'Qwen3-4B-Thinking(-2507)',
    at16k: s(58.6, 56.7, 69.9, 32.9, 54.5),
    at100k: s(61.4, 59.2, 70.9, 40.7, 58.1),
  },
  {
    model: 'Qwen3-4B-Thinking(-2507)+RLVR',
    at16k: s(60.5, 56.6, 71.1, 33.8, 55.5),
    at100k: s(63.3, 58.6, 71.1, 43.4, 59.1),
  },
  {
    model: 'Qwen3-4B-Thinking(-2507)+SPELL',
    at16k: s(61.9, 56.6, 71.6, 36.8, 56.7),
    at100k: s(64.8, 60.6, 72.4, 43.0, 60.2),
  },
  {
    model: 'Qwen3-30B-A3B-Thinking(-2507)',
    at16k: s(62.9, 64.5, 75.7, 39.7, 60.7),
    at100k: s(63.8, 65.8, 77.9, 46.7, 63.6),
  },
  {
    model: 'Qwen3-30B-A3B-Thinking(-2507)+RLVR',
    at16k: s(62.7, 64.7, 77.0, 38.5, 60.7),
    at100k: s(63.9, 67.1, 77.2, 49.6, 64.5),
  },
  {
    model: 'Qwen3-30B-A3B-Thinking(-2507)+SPELL',
    at16k: s(64.1, 66.5, 78.0, 42.3, 62.7),
    at100k: s(66.7, 68.1, 78.4, 50.5, 65.9),
  },
];

/** A model name reduced for matching: no org, no "-2507", no vendor prefix, alphanumerics and "+". */
export function paperModelKey(name: string): string {
  return name
    .slice(name.lastIndexOf('/') + 1)
    .toLowerCase()
    .replaceAll('(-2507)', '')
    .replaceAll('-2507', '')
    .replace(/^(meta-|deepseek-)/, '')
    .replace(/[^a-z0-9+]/g, '');
}

/**
 * The Table 1 row for a model name (HF id or the paper's spelling, optionally with "+RLVR" or
 * "+SPELL"), e.g. `Qwen/Qwen2.5-7B-Instruct` or `meta-llama/Meta-Llama-3.1-8B-Instruct`.
 */
export function findPaperRow(model: string): PaperRow | undefined {
  const key = paperModelKey(model);
  return PAPER_TABLE1.find((r) => paperModelKey(r.model) === key);
}

/** The paper's scores for a model at an input length (16384 → 16K, 100000 → 100K), if any. */
export function paperScores(model: string, maxInputLen: number): PaperScores | undefined {
  const row = findPaperRow(model);
  if (row === undefined) return undefined;
  if (maxInputLen === 16384) return row.at16k;
  if (maxInputLen === 100000) return row.at100k;
  return undefined;
}
