/**
 * The Hugging Face hub's local cache layout, as huggingface_hub writes it, so a user's existing
 * cache is reused and what spell downloads is visible to transformers and friends:
 *
 *   <cache>/models--<org>--<name>/blobs/<etag>                 file contents, named by ETag
 *   <cache>/models--<org>--<name>/blobs/<etag>.incomplete      a partial download (resumable)
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<file>    relative symlink → ../../blobs/<etag>
 *   <cache>/models--<org>--<name>/refs/<revision>              the commit a branch/tag resolved to
 *
 * <cache> is --cache-dir, else $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
 */
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';

/** Where the hub cache lives, by the same precedence as huggingface_hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv, override?: string): string {
  if (override) return override;
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const home = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  return join(home, 'hub');
}

/** `org/name` → `models--org--name` (the folder of a model repo in the cache). */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

/** An ETag header as the cache names blobs: weak prefix and quotes removed. */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** A 40-hex-digit git commit id (a revision that needs no ref file). */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/** One repository's folder in the cache. */
export class RepoCache {
  readonly root: string;

  constructor(cacheDir: string, repoId: string) {
    this.root = join(cacheDir, repoFolderName(repoId));
  }

  blob(etag: string): string {
    return join(this.root, 'blobs', etag);
  }

  snapshotDir(commit: string): string {
    return join(this.root, 'snapshots', commit);
  }

  snapshotFile(commit: string, file: string): string {
    return join(this.snapshotDir(commit), ...file.split('/'));
  }

  /** The commit a branch or tag resolved to last time, if recorded. */
  readRef(revision: string): string | undefined {
    if (isCommitHash(revision)) return revision;
    const p = join(this.root, 'refs', ...revision.split('/'));
    if (!existsSync(p)) return undefined;
    const commit = readFileSync(p, 'utf8').trim();
    return isCommitHash(commit) ? commit : undefined;
  }

  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const p = join(this.root, 'refs', ...revision.split('/'));
    mkdirSync(dirname(p), { recursive: true });
    writeFileAtomic(p, commit);
  }

  /** True when the snapshot already holds `file` (a link whose blob exists, or a plain file). */
  hasSnapshotFile(commit: string, file: string): boolean {
    return existsSync(this.snapshotFile(commit, file));
  }

  /** Size of a complete blob, or undefined when absent. */
  blobSize(etag: string): number | undefined {
    const p = this.blob(etag);
    return existsSync(p) ? statSync(p).size : undefined;
  }

  /**
   * Point snapshots/<commit>/<file> at blobs/<etag> with a relative symlink (what huggingface_hub
   * does); where symlinks are refused (some Windows setups), the blob is copied instead.
   */
  link(commit: string, file: string, etag: string): void {
    const dest = this.snapshotFile(commit, file);
    mkdirSync(dirname(dest), { recursive: true });
    if (lstatExists(dest)) rmSync(dest, { force: true });
    const target = relative(dirname(dest), this.blob(etag));
    try {
      symlinkSync(target, dest);
    } catch {
      copyFileSync(this.blob(etag), dest);
    }
  }
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
