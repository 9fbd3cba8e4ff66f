/**
 * A client of the Hugging Face hub's HTTP file layout (what huggingface_hub speaks):
 *   GET  {endpoint}/api/models/{repo}/revision/{revision}   → { sha, siblings: [{ rfilename }] }
 *   HEAD {endpoint}/{repo}/resolve/{revision}/{file}        → X-Repo-Commit, ETag / X-Linked-Etag,
 *        Content-Length / X-Linked-Size; large (LFS) files answer 302 to a CDN, whose Location is
 *        where the bytes are fetched (relative redirects, e.g. a renamed repo, are followed)
 *   GET  the file, with `Range: bytes=N-` to resume a partial download
 * The token goes only to the hub's own origin, never to a CDN on another host.
 */
import { createWriteStream, existsSync, statSync, truncateSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SpellError } from '../core/errors.ts';
import { normalizeEtag } from './cache.ts';

/** The hub refused a request or could not be reached; the message names repo, file and status. */
export class HubError extends SpellError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface HubClientOptions {
  /** e.g. https://huggingface.co (no trailing slash needed). */
  readonly endpoint: string;
  readonly token?: string;
  readonly userAgent?: string;
}

/** What a repo revision holds. */
export interface RepoRevision {
  /** The commit the revision resolved to. */
  readonly commit: string;
  readonly files: readonly string[];
}

/** What a HEAD on a file says. */
export interface FileMetadata {
  readonly commit: string;
  /** Normalised ETag (the blob name in the cache). */
  readonly etag: string;
  readonly size: number;
  /** Where to GET the bytes (the CDN for LFS files, else the resolve URL). */
  readonly url: string;
}

const MAX_REDIRECTS = 10;

export class HubClient {
  readonly endpoint: string;

  constructor(private readonly opts: HubClientOptions) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
  }

  private headers(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'spell', ...extra };
    if (this.opts.token && new URL(url).origin === new URL(this.endpoint).origin) {
      h.authorization = `Bearer ${this.opts.token}`;
    }
    return h;
  }

  private async request(
    method: 'GET' | 'HEAD',
    url: string,
    extra: Record<string, string>,
    what: string,
  ): Promise<Response> {
    try {
      return await fetch(url, { method, headers: this.headers(url, extra), redirect: 'manual' });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
      throw new HubError(
        `cannot reach the hub at ${this.endpoint} for ${what}${cause ? `: ${cause}` : ''}`,
        undefined,
        { cause: err },
      );
    }
  }

  /** The commit and file list of `repo` at `revision`. */
  async revision(repo: string, revision: string): Promise<RepoRevision> {
    const url = `${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
    let res = await this.request('GET', url, { accept: 'application/json' }, repo);
    for (let i = 0; i < MAX_REDIRECTS && isRedirect(res.status); i++) {
      const next = new URL(res.headers.get('location') ?? '', url).toString();
      res = await this.request('GET', next, { accept: 'application/json' }, repo);
    }
    if (!res.ok) throw await this.failure(res, repo, revision);
    const body = (await res.json()) as { sha?: unknown; siblings?: unknown };
    if (typeof body.sha !== 'string' || !Array.isArray(body.siblings)) {
      throw new HubError(`the hub's answer for ${repo}@${revision} has no "sha" and "siblings"`);
    }
    const files = body.siblings
      .map((s: unknown) =>
        typeof s === 'object' && s !== null ? (s as { rfilename?: unknown }).rfilename : undefined,
      )
      .filter((f): f is string => typeof f === 'string');
    return { commit: body.sha, files };
  }

  /** HEAD a file: its commit, ETag, size and download URL. */
  async metadata(repo: string, revision: string, file: string): Promise<FileMetadata> {
    let url = resolveUrl(this.endpoint, repo, revision, file);
    const what = `${repo}/${file}`;
    // The hub's own answer carries the commit and ETag; an absolute redirect to another host (the
    // CDN) ends the walk: its Location is the download URL. Same-host redirects are followed.
    for (let i = 0; ; i++) {
      const res = await this.request('HEAD', url, { 'accept-encoding': 'identity' }, what);
      const location = res.headers.get('location');
      if (isRedirect(res.status) && location) {
        const next = new URL(location, url);
        const sameHost = next.origin === new URL(url).origin;
        if (sameHost && i < MAX_REDIRECTS && !res.headers.get('x-linked-etag')) {
          url = next.toString();
          continue;
        }
        return this.describe(res, what, next.toString(), revision);
      }
      if (!res.ok) throw await this.failure(res, repo, revision, file);
      return this.describe(res, what, url, revision);
    }
  }

  private describe(res: Response, what: string, url: string, revision: string): FileMetadata {
    const etag = res.headers.get('x-linked-etag') ?? res.headers.get('etag');
    const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length'));
    const commit = res.headers.get('x-repo-commit') ?? revision;
    if (!etag) throw new HubError(`the hub sent no ETag for ${what}; cannot cache it`);
    if (!Number.isFinite(size) || size < 0) {
      throw new HubError(`the hub sent no size for ${what} (Content-Length / X-Linked-Size)`);
    }
    return { commit, etag: normalizeEtag(etag), size, url };
  }

  /**
   * Download `url` into `dest` (a `.incomplete` file), resuming from its current length with a
   * Range request. Returns when `dest` holds `size` bytes.
   * @throws HubError on a refused request or a size mismatch
   */
  async download(url: string, dest: string, size: number, what: string): Promise<void> {
    let have = existsSync(dest) ? statSync(dest).size : 0;
    if (have > size) {
      truncateSync(dest, 0);
      have = 0;
    }
    if (have === size) return;
    let current = url;
    for (let i = 0; i <= MAX_REDIRECTS; i++) {
      const extra: Record<string, string> = { 'accept-encoding': 'identity' };
      if (have > 0) extra.range = `bytes=${have}-`;
      const res = await this.request('GET', current, extra, what);
      const location = res.headers.get('location');
      if (isRedirect(res.status) && location) {
        await res.body?.cancel();
        current = new URL(location, current).toString();
        continue;
      }
      if (res.status === 416) {
        // The server has no bytes past what we hold: start over rather than trust the partial.
        await res.body?.cancel();
        truncateSync(dest, 0);
        have = 0;
        continue;
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel();
        throw new HubError(`downloading ${what}: the server answered ${res.status}`, res.status);
      }
      // 200 means the server ignored the Range: write from the start.
      const append = res.status === 206 && have > 0;
      if (!res.body) throw new HubError(`downloading ${what}: empty response body`);
      const out = createWriteStream(dest, { flags: append ? 'a' : 'w' });
      try {
        await pipeline(Readable.fromWeb(res.body), out);
      } catch (err) {
        throw new HubError(
          `downloading ${what}: the connection broke after ${existsSync(dest) ? statSync(dest).size : 0} of ${size} bytes; run the command again to resume`,
          undefined,
          { cause: err },
        );
      }
      const got = statSync(dest).size;
      if (got !== size) {
        throw new HubError(
          `downloading ${what}: got ${got} of ${size} bytes; run the command again to resume`,
        );
      }
      return;
    }
    throw new HubError(`downloading ${what}: more than ${MAX_REDIRECTS} redirects`);
  }

  /** A clear error for a refused request, using the hub's X-Error-Code when it sends one. */
  private async failure(
    res: Response,
    repo: string,
    revision: string,
    file?: string,
  ): Promise<HubError> {
    const code = res.headers.get('x-error-code') ?? '';
    const message = res.headers.get('x-error-message') ?? '';
    await res.body?.cancel();
    const where = `${this.endpoint}`;
    const s = res.status;
    const detail = message ? ` (${message})` : '';
    if (code === 'GatedRepo' || (s === 403 && !file)) {
      return new HubError(
        `${repo} is gated or forbidden at ${where} (${s})${detail}: accept its terms on the hub and use a token with access in HF_TOKEN`,
        s,
      );
    }
    if (s === 401) {
      return new HubError(
        this.opts.token
          ? `${repo} refused the token from HF_TOKEN at ${where} (401)${detail}: it does not exist or the token has no access`
          : `${repo} needs authentication at ${where} (401)${detail}: it is private, gated or does not exist; set HF_TOKEN`,
        s,
      );
    }
    if (code === 'RevisionNotFound') {
      return new HubError(`revision "${revision}" not found in ${repo} at ${where} (${s})`, s);
    }
    if (code === 'EntryNotFound' || (file && s === 404 && code !== 'RepoNotFound')) {
      return new HubError(`${file ?? 'a file'} not found in ${repo}@${revision} at ${where}`, s);
    }
    if (s === 404) return new HubError(`repository ${repo} not found at ${where} (404)`, s);
    return new HubError(
      `the hub at ${where} answered ${s} for ${file ? `${repo}/${file}` : repo}${detail}`,
      s,
    );
  }
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** {endpoint}/{repo}/resolve/{revision}/{file}, each path segment escaped. */
export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const f = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${f}`;
}
