/**
 * The documents of a cluster, for the rollout browser. Rollout records name a cluster and the
 * indices of the documents the questioner saw, not the texts, so the corpus the run trained on
 * (config.yaml `data.paths`, or the bundled corpus when empty) is read once, on the first request,
 * and kept. A run whose corpus has moved still browses; its clusters are reported as unavailable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { readCorpus } from '../data/read/corpus.ts';
import { defaultCorpusPath } from '../data/synth/default.ts';

export type ClusterLookup =
  | { readonly ok: true; readonly documents: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** The corpus paths a run's config.yaml names (relative ones resolved against `cwd`). */
export function corpusPathsOf(configPath: string, cwd: string): string[] {
  if (!existsSync(configPath)) return [defaultCorpusPath()];
  const cfg = parse(readFileSync(configPath, 'utf8')) as { data?: { paths?: unknown } } | null;
  const paths = cfg?.data?.paths;
  if (!Array.isArray(paths) || paths.length === 0) return [defaultCorpusPath()];
  return paths
    .filter((p): p is string => typeof p === 'string')
    .map((p) => (isAbsolute(p) ? p : resolve(cwd, p)));
}

export class ClusterDocs {
  private loaded: Promise<Map<string, readonly string[]> | string> | undefined;

  private paths: readonly string[] = [];

  /** @param pathsOf the corpus paths, asked on first use (a starting run writes config.yaml late) */
  constructor(private readonly pathsOf: () => readonly string[]) {}

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
    this.paths = this.pathsOf();
    const missing = this.paths.filter((p) => !existsSync(p));
    if (missing.length > 0) return `the run's corpus is not here: ${missing.join(', ')}`;
    try {
      const read = await readCorpus(this.paths, { skipBad: true });
      return new Map(read.clusters.map((c) => [c.id, c.documents]));
    } catch (err) {
      return `cannot read the run's corpus: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}
