/**
 * `spell model pull`: download the files a user needs to run a hub model (config, safetensors
 * weights, tokenizer, generation config, chat template) into the Hugging Face cache layout, reusing
 * what is already cached and resuming partial downloads. Returns the snapshot folder, which
 * `spell serve` and `spell train --model` load like any model folder.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigurationError } from '../core/errors.ts';
import { HubClient, HubError } from './client.ts';
import { RepoCache, hubCacheDir, isCommitHash, normalizeEtag } from './cache.ts';

export interface PullOptions {
  readonly repo: string;
  /** Branch, tag or commit (default main). */
  readonly revision?: string;
  /** Overrides $HF_HUB_CACHE / $HF_HOME/hub / ~/.cache/huggingface/hub. */
  readonly cacheDir?: string;
  /** Read for HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** One line per file: cached, downloaded or resumed. */
  readonly onFile?: (
    file: string,
    action: 'cached' | 'downloaded' | 'resumed',
    bytes: number,
  ) => void;
}

export interface PullResult {
  readonly snapshotDir: string;
  readonly commit: string;
  readonly files: readonly string[];
}

/** Single files a model folder may use, by exact name at the repo root. */
const WANTED = new Set([
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'tokenizer.model',
  'vocab.json',
  'merges.txt',
  'chat_template.jinja',
  'chat_template.json',
  'model.safetensors',
  'model.safetensors.index.json',
]);

const INDEX = 'model.safetensors.index.json';

/**
 * The files to fetch from a repo listing: the known single files at the root, plus safetensors
 * shards (named by the index once it is read, see `shardsOf`). Subfolders (onnx/, original/, …)
 * and other weight formats are left out.
 * @throws HubError when the repo has no config.json or no safetensors weights
 */
export function chooseFiles(repo: string, files: readonly string[]): string[] {
  const root = files.filter((f) => !f.includes('/'));
  if (!root.includes('config.json')) {
    throw new HubError(`${repo} has no config.json at its root; it is not a transformers model`);
  }
  const picked = root.filter((f) => WANTED.has(f));
  const hasWeights = root.includes('model.safetensors') || root.includes(INDEX);
  if (!hasWeights) {
    const other = root.filter((f) => /\.(bin|pth|pt|gguf|h5|msgpack|safetensors)$/.test(f));
    throw new HubError(
      `${repo} has no model.safetensors or ${INDEX}${other.length ? ` (it has ${other.slice(0, 3).join(', ')})` : ''}; spell reads safetensors weights only`,
    );
  }
  return picked;
}

/** The shard files an index's weight_map names, in first-seen order. */
export function shardsOf(indexJson: string, file: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(indexJson);
  } catch (err) {
    throw new HubError(`${file} is not valid JSON`, undefined, { cause: err });
  }
  const map = (parsed as { weight_map?: unknown }).weight_map;
  if (typeof map !== 'object' || map === null) {
    throw new HubError(`${file} has no "weight_map" object`);
  }
  const shards: string[] = [];
  for (const v of Object.values(map)) {
    if (typeof v !== 'string' || v.includes('..') || v.startsWith('/')) {
      throw new HubError(`${file} names an invalid shard ${JSON.stringify(v)}`);
    }
    if (!shards.includes(v)) shards.push(v);
  }
  return shards;
}

const REPO_ID = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The token: $HF_TOKEN, the legacy $HUGGING_FACE_HUB_TOKEN, else the file `hf auth login` writes. */
export function hubToken(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const home = env.HF_HOME;
  const path = env.HF_TOKEN_PATH || (home ? `${home}/token` : undefined);
  if (path && existsSync(path)) return readFileSync(path, 'utf8').trim() || undefined;
  return undefined;
}

/**
 * Pull a model repo into the cache and return its snapshot folder.
 * @throws ConfigurationError on a malformed repo id; HubError when the hub refuses or is unreachable
 */
export async function pullModel(opts: PullOptions): Promise<PullResult> {
  const env = opts.env ?? process.env;
  if (!REPO_ID.test(opts.repo) || opts.repo.includes('--') || opts.repo.includes('..')) {
    throw new ConfigurationError(
      `"${opts.repo}" is not a hub repo id; expected ORG/NAME, e.g. HuggingFaceTB/SmolLM2-135M-Instruct`,
    );
  }
  const revision = opts.revision ?? 'main';
  const endpoint = env.HF_ENDPOINT || 'https://huggingface.co';
  const token = hubToken(env);
  const client = new HubClient({ endpoint, ...(token ? { token } : {}) });
  const cache = new RepoCache(hubCacheDir(env, opts.cacheDir), opts.repo);

  let listing;
  try {
    listing = await client.revision(opts.repo, revision);
  } catch (err) {
    // Offline with a complete earlier pull of this revision: use it, as huggingface_hub does.
    const offline = err instanceof HubError && err.status === undefined;
    const cached = offline ? cachedSnapshot(cache, revision) : undefined;
    if (cached) return cached;
    throw err;
  }
  const commit = listing.commit;
  const files = chooseFiles(opts.repo, listing.files);
  const fetchOne = async (file: string): Promise<void> => {
    if (cache.hasSnapshotFile(commit, file)) {
      opts.onFile?.(file, 'cached', 0);
      return;
    }
    // Resolve at the commit, so every file comes from the same revision.
    const meta = await client.metadata(opts.repo, commit, file);
    const etag = normalizeEtag(meta.etag);
    if (cache.blobSize(etag) !== meta.size) {
      const blob = cache.blob(etag);
      const partial = `${blob}.incomplete`;
      mkdirSync(dirname(blob), { recursive: true });
      const resumed = existsSync(partial);
      await client.download(meta.url, partial, meta.size, `${opts.repo}/${file}`);
      renameSync(partial, blob);
      opts.onFile?.(file, resumed ? 'resumed' : 'downloaded', meta.size);
    } else {
      opts.onFile?.(file, 'cached', 0);
    }
    cache.link(commit, file, etag);
  };
  for (const f of files) await fetchOne(f);
  const all = [...files];
  if (files.includes(INDEX)) {
    const index = readFileSync(cache.snapshotFile(commit, INDEX), 'utf8');
    for (const shard of shardsOf(index, `${opts.repo}/${INDEX}`)) {
      if (!listing.files.includes(shard)) {
        throw new HubError(`${opts.repo}/${INDEX} names ${shard}, which the repo does not hold`);
      }
      await fetchOne(shard);
      all.push(shard);
    }
  }
  if (!isCommitHash(revision) || revision !== commit) cache.writeRef(revision, commit);
  return { snapshotDir: cache.snapshotDir(commit), commit, files: all };
}

/** An earlier complete pull of `revision` (config and weights present), for offline use. */
function cachedSnapshot(cache: RepoCache, revision: string): PullResult | undefined {
  const commit = cache.readRef(revision);
  if (!commit) return undefined;
  if (!cache.hasSnapshotFile(commit, 'config.json')) return undefined;
  const weights = ['model.safetensors', INDEX].filter((f) => cache.hasSnapshotFile(commit, f));
  if (weights.length === 0) return undefined;
  return { snapshotDir: cache.snapshotDir(commit), commit, files: ['config.json', ...weights] };
}
