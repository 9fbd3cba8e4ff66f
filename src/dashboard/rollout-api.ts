/**
 * The rollout browser's two reads: a filtered, searched page of samples over some steps, and one
 * question's whole story in a step (the questioner sample, its cluster's documents, the responder
 * answers, the verifier votes). Both read sample lines back by byte offset from the step index.
 */
import { open } from 'node:fs/promises';
import { lineMatchesText, matchesEntry, type RolloutFilter } from './query.ts';
import type { RolloutEntry } from './rollout-index.ts';
import type { RunSource } from './run-source.ts';
import type { ClusterDocs, ClusterLookup } from './cluster-docs.ts';

/** One row of the sample list: the index fields, a short text and the role's verdict fields. */
export interface SampleRow {
  readonly step: number;
  readonly line: number;
  readonly role: string;
  readonly task: string;
  readonly label: string | null;
  readonly reward: number | null;
  readonly advantage: number | null;
  readonly trained: boolean;
  readonly uid: string;
  readonly snippet: string;
  readonly detail: Record<string, unknown>;
}

export interface SamplePage {
  readonly total: number;
  readonly offset: number;
  readonly rows: readonly SampleRow[];
}

const SNIPPET_CHARS = 280;
/** Fields a list row shows besides the text, per role (whatever of them a record has). */
const DETAIL_FIELDS = [
  'parse',
  'pass_rate',
  'cluster_id',
  'index',
  'pred',
  'gt',
  'answer',
  'rule_score',
  'majority',
  'vote',
  'responder_index',
  'agreement',
];

function rowOf(step: number, e: RolloutEntry, line: string): SampleRow {
  let rec: Record<string, unknown> = {};
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    // indexed lines parsed once; a file replaced under us shows an empty row until re-indexed
  }
  const text = typeof rec.text === 'string' ? rec.text : '';
  const detail: Record<string, unknown> = {};
  for (const f of DETAIL_FIELDS) if (f in rec) detail[f] = rec[f];
  return {
    step,
    line: e.line,
    role: e.role,
    task: e.task,
    label: e.label,
    reward: e.reward,
    advantage: e.advantage,
    trained: e.trained,
    uid: e.uid,
    snippet: text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}…` : text,
    detail,
  };
}

/** Read lines by offset from one open file, one at a time (never the whole file). */
async function withLines(
  path: string,
  entries: readonly RolloutEntry[],
  each: (e: RolloutEntry, line: string) => boolean | undefined,
): Promise<void> {
  if (entries.length === 0) return;
  const fh = await open(path, 'r');
  try {
    for (const e of entries) {
      const buf = Buffer.alloc(e.length);
      await fh.read(buf, 0, e.length, e.offset);
      if (each(e, buf.toString('utf8')) === false) break;
    }
  } finally {
    await fh.close();
  }
}

/**
 * A page of the samples of `steps` that pass `filter`, in step then file order.
 * `total` counts every match, so the text search reads every candidate line once.
 */
export async function queryRollouts(
  run: RunSource,
  steps: readonly number[],
  filter: RolloutFilter,
  offset: number,
  limit: number,
): Promise<SamplePage> {
  const rows: SampleRow[] = [];
  let total = 0;
  const needle = filter.text?.toLowerCase();
  for (const step of steps) {
    const idx = await run.index(step);
    if (idx === undefined) continue;
    const candidates = idx.entries.filter((e) => matchesEntry(e, filter));
    if (needle === undefined || needle === '') {
      const from = Math.max(0, offset - total);
      const wanted = candidates.slice(from, from + Math.max(0, limit - rows.length));
      await withLines(run.stepPath(step), wanted, (e, line) => {
        rows.push(rowOf(step, e, line));
        return undefined;
      });
      total += candidates.length;
      continue;
    }
    await withLines(run.stepPath(step), candidates, (e, line) => {
      if (!lineMatchesText(line, needle)) return undefined;
      if (total >= offset && rows.length < limit) rows.push(rowOf(step, e, line));
      total += 1;
      return undefined;
    });
  }
  return { total, offset, rows };
}

/** A question of one step with everything that happened to it. */
export interface QuestionStory {
  readonly step: number;
  readonly uid: string;
  readonly questioner: Record<string, unknown> | null;
  readonly responders: Record<string, unknown>[];
  readonly verifiers: Record<string, unknown>[];
  readonly cluster: (ClusterLookup & { readonly id: string }) | null;
}

export async function questionStory(
  run: RunSource,
  docs: ClusterDocs,
  step: number,
  uid: string,
): Promise<QuestionStory | undefined> {
  const idx = await run.index(step);
  if (idx === undefined) return undefined;
  const mine = idx.entries.filter((e) => e.uid === uid);
  if (mine.length === 0) return undefined;
  let questioner: Record<string, unknown> | null = null;
  const responders: Record<string, unknown>[] = [];
  const verifiers: Record<string, unknown>[] = [];
  await withLines(run.stepPath(step), mine, (e, line) => {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    rec.line = e.line;
    if (e.role === 'questioner') questioner = rec;
    else if (e.role === 'responder') responders.push(rec);
    else if (e.role === 'verifier') verifiers.push(rec);
    return undefined;
  });
  const order = (r: Record<string, unknown>, k: string): number =>
    typeof r[k] === 'number' ? r[k] : 0;
  responders.sort((a, b) => order(a, 'index') - order(b, 'index'));
  verifiers.sort((a, b) => order(a, 'responder_index') - order(b, 'responder_index'));
  const q = questioner as Record<string, unknown> | null;
  const clusterId = q !== null && typeof q.cluster_id === 'string' ? q.cluster_id : undefined;
  const cluster =
    clusterId !== undefined ? { id: clusterId, ...(await docs.lookup(clusterId)) } : null;
  return { step, uid, questioner: q, responders, verifiers, cluster };
}
