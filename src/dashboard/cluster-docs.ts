/**
 * The documents of a cluster, for the rollout browser. Rollout records name a cluster and the
 * indices of the documents the questioner saw, not the texts, so the corpus the run trained on
 * (config.yaml `data.paths` and `data.text`, or the bundled corpus when empty) is read once, on the first request,
 * and kept. A run whose corpus has moved still browses; its clusters are reported as unavailable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import type { TextBounds } from '../data/cluster.ts';
import { readCorpus } from '../data/read/corpus.ts';
import { defaultCorpusPath } from '../data/synth/default.ts';

export type ClusterLookup =
  | { readonly ok: true; readonly documents: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** What a run read its clusters from: corpus paths, and how text folders were cut. */
export interface CorpusRef {
  readonly paths: readonly string[];
  readonly text?: TextBounds;
}

/** A positive integer config value, or undefined (the reader's default then applies). */
function intOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The corpus a run's config.yaml names (relative paths resolved against `cwd`), with its text
 * bounds, so text folders are cut into the same clusters (and ids) the run trained on.
 */
export function corpusOf(configPath: string, cwd: string): CorpusRef {
  if (!existsSync(configPath)) return { paths: [defaultCorpusPath()] };
  const cfg = parse(readFileSync(configPath, 'utf8')) as {
    data?: { paths?: unknown; text?: { documentChars?: unknown; clusterChars?: unknown } };
  } | null;
  const documentChars = intOf(cfg?.data?.text?.documentChars);
  const clusterChars = intOf(cfg?.data?.text?.clusterChars);
  const text =
    documentChars !== undefined && clusterChars !== undefined
      ? { text: { documentChars, clusterChars } }
      : {};
  const paths = cfg?.data?.paths;
  if (!Array.isArray(paths) || paths.length === 0) return { paths: [defaultCorpusPath()], ...text };
  return {
    paths: paths
      .filter((p): p is string => typeof p === 'string')
      .map((p) => (isAbsolute(p) ? p : resolve(cwd, p))),
    ...text,
  };
}

export class ClusterDocs {
  private loaded: Promise<Map<string, readonly string[]> | string> | undefined;

  private paths: readonly string[] = [];

  /** @param corpusOf the corpus, asked on first use (a starting run writes config.yaml late) */
  constructor(private readonly corpusOf: () => CorpusRef) {}

  async lookup(clusterId: string): Promise<ClusterLookup> {
    this.loaded ??= this.load();
    const byId = await this.loaded;
    if (typeof byId === 'string') return { ok: false, reason: byId };
    const documents = byId.get(clusterId);
    if (documents === undefined)
      return { ok: false, reason: `cluster ${clusterId} is not in ${this.paths.join(', ')}` };
    return { ok: true, documents };
  }

  private async load(): Promise<Map<string, readonly string[]> | string> {
    const corpus = this.corpusOf();
    this.paths = corpus.paths;
    const missing = this.paths.filter((p) => !existsSync(p));
    if (missing.length > 0) return `the run's corpus is not here: ${missing.join(', ')}`;
    try {
      const read = await readCorpus(this.paths, {
        skipBad: true,
        ...(corpus.text === undefined ? {} : { text: corpus.text }),
      });
      return new Map(read.clusters.map((c) => [c.id, c.documents]));
    } catch (err) {
      return `cannot read the run's corpus: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}
