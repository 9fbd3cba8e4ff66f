/**
 * The index of one rollouts/step-NNNNNN.jsonl file: for every sample, where its line is (byte
 * offset and length) and the few fields the browser filters on. The file is read in fixed-size
 * chunks, so memory stays at one chunk plus the longest line however large the file is; a page
 * of samples is then read back by offset. The index does not keep any sample's text.
 */
import { open } from 'node:fs/promises';

/** One sample of a step file, as the dashboard filters and finds it. */
export interface RolloutEntry {
  /** 0-based line number in the step file. */
  readonly line: number;
  readonly offset: number;
  /** Bytes of the line, without its newline. */
  readonly length: number;
  readonly role: string;
  readonly task: string;
  /** The sample's own label, or (responders, verifiers) the label of the question it belongs to. */
  label: string | null;
  readonly reward: number | null;
  readonly advantage: number | null;
  readonly trained: boolean;
  /** The question's uid: a questioner's own, a responder's group, a verifier's `question_uid`. */
  readonly uid: string;
}

export interface StepIndex {
  readonly step: number;
  readonly entries: readonly RolloutEntry[];
  /** Lines that were not JSON objects (counted, not indexed). */
  readonly badLines: number;
}

const CHUNK_BYTES = 1 << 20;

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The index fields of one parsed line, or undefined when the line is no sample object. */
export function entryOf(
  parsed: unknown,
  line: number,
  offset: number,
  length: number,
): RolloutEntry | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const r = parsed as Record<string, unknown>;
  const role = str(r.role) ?? 'unknown';
  const uid = str(r.question_uid) ?? str(r.uid) ?? `line-${line}`;
  return {
    line,
    offset,
    length,
    role,
    task: str(r.task) ?? 'unknown',
    label: str(r.label),
    reward: num(r.reward),
    advantage: num(r.advantage),
    trained: r.trained === true,
    uid,
  };
}

/** Give responders and verifiers without a label of their own the label of their question. */
export function inheritLabels(entries: readonly RolloutEntry[]): void {
  const labelOf = new Map<string, string>();
  for (const e of entries)
    if (e.role === 'questioner' && e.label !== null) labelOf.set(e.uid, e.label);
  for (const e of entries) if (e.label === null) e.label = labelOf.get(e.uid) ?? null;
}

/**
 * Index a step file by streaming it. A step file is written whole and renamed into place, so
 * what is read is complete; a torn last line (no newline) is still indexed if it parses.
 */
export async function indexStepFile(
  path: string,
  step: number,
  chunkBytes = CHUNK_BYTES,
): Promise<StepIndex> {
  const fh = await open(path, 'r');
  const entries: RolloutEntry[] = [];
  let badLines = 0;
  let line = 0;
  try {
    const chunk = Buffer.alloc(chunkBytes);
    let pending: Buffer = Buffer.alloc(0);
    let pendingOffset = 0; // file offset of pending[0]
    let filePos = 0;
    const take = (buf: Buffer, offset: number): void => {
      const text = buf.toString('utf8');
      if (text.trim() !== '') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const e = entryOf(parsed, line, offset, buf.length);
        if (e === undefined) badLines += 1;
        else entries.push(e);
      }
      line += 1;
    };
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunkBytes, filePos);
      if (bytesRead === 0) break;
      filePos += bytesRead;
      const data =
        pending.length > 0
          ? Buffer.concat([pending, chunk.subarray(0, bytesRead)])
          : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        take(data.subarray(start, nl), pendingOffset + start);
        start = nl + 1;
      }
      pendingOffset += start;
      // copy: `chunk` is reused by the next read
      pending = Buffer.from(data.subarray(start));
    }
    if (pending.length > 0) take(pending, pendingOffset);
  } finally {
    await fh.close();
  }
  inheritLabels(entries);
  return { step, entries, badLines };
}

/** Read the lines of `entries` (all from one file) back by offset, in the given order. */
export async function readEntries(
  path: string,
  entries: readonly RolloutEntry[],
): Promise<string[]> {
  if (entries.length === 0) return [];
  const fh = await open(path, 'r');
  try {
    const out: string[] = [];
    for (const e of entries) {
      const buf = Buffer.alloc(e.length);
      await fh.read(buf, 0, e.length, e.offset);
      out.push(buf.toString('utf8'));
    }
    return out;
  } finally {
    await fh.close();
  }
}
