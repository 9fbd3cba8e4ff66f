/**
 * A small Hugging Face hub on 127.0.0.1, shaped like the real one: the revision API, HEAD/GET on
 * `resolve` URLs with X-Repo-Commit and ETag headers, LFS files (*.safetensors) redirected with a
 * 302 to a CDN on another origin that honours Range, private repos answering 401 without the
 * right bearer token, and X-Error-Code on refusals. Every request is recorded for assertions.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRepo {
  readonly commit: string;
  readonly files: Readonly<Record<string, Buffer>>;
  /** Bearer token required (answers 401 RepoNotFound without it, as the hub does). */
  readonly token?: string;
}

export interface Recorded {
  readonly server: 'hub' | 'cdn';
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  readonly range?: string;
}

const isLfs = (f: string): boolean => f.endsWith('.safetensors');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const gitSha = (b: Buffer): string =>
  createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export class HubServer {
  readonly requests: Recorded[] = [];
  /** Cut the next N CDN downloads after half of their bytes. */
  cutNextDownloads = 0;
  private hub: Server | undefined;
  private cdn: Server | undefined;
  private cdnUrl = '';
  private readonly blobs = new Map<string, Buffer>();

  constructor(private readonly repos: Readonly<Record<string, HubRepo>>) {
    for (const r of Object.values(repos)) {
      for (const b of Object.values(r.files)) this.blobs.set(sha256(b), b);
    }
  }

  async start(): Promise<string> {
    this.cdn = createServer((req, res) => this.serveCdn(req, res));
    this.hub = createServer((req, res) => this.serveHub(req, res));
    const listen = (s: Server): Promise<string> =>
      new Promise((r) =>
        s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
      );
    this.cdnUrl = await listen(this.cdn);
    return listen(this.hub);
  }

  close(): void {
    this.hub?.closeAllConnections();
    this.cdn?.closeAllConnections();
    this.hub?.close();
    this.cdn?.close();
  }

  private record(server: 'hub' | 'cdn', req: IncomingMessage): void {
    this.requests.push({
      server,
      method: req.method ?? '',
      url: req.url ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(req.headers.range ? { range: req.headers.range } : {}),
    });
  }

  private refuse(res: ServerResponse, status: number, code: string): void {
    res.writeHead(status, { 'x-error-code': code, 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: code }));
  }

  private serveHub(req: IncomingMessage, res: ServerResponse): void {
    this.record('hub', req);
    const url = new URL(req.url ?? '/', 'http://x');
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoId = decodeURIComponent((api ?? resolve)?.[1] ?? '');
    const repo = this.repos[repoId];
    if (!repo) return this.refuse(res, 404, 'RepoNotFound');
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) {
      return this.refuse(res, 401, 'RepoNotFound');
    }
    const rev = decodeURIComponent((api ?? resolve)?.[2] ?? '');
    if (rev !== 'main' && rev !== repo.commit) return this.refuse(res, 404, 'RevisionNotFound');
    if (api) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: repoId,
          sha: repo.commit,
          siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
        }),
      );
      return;
    }
    const file = decodeURIComponent(resolve?.[3] ?? '');
    const body = repo.files[file];
    if (!body) return this.refuse(res, 404, 'EntryNotFound');
    if (isLfs(file)) {
      const oid = sha256(body);
      res.writeHead(302, {
        location: `${this.cdnUrl}/blobs/${oid}`,
        'x-repo-commit': repo.commit,
        'x-linked-etag': `"${oid}"`,
        'x-linked-size': String(body.length),
        etag: `"${gitSha(body)}"`,
      });
      res.end();
      return;
    }
    res.writeHead(200, {
      'x-repo-commit': repo.commit,
      etag: `"${gitSha(body)}"`,
      'content-length': String(body.length),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private serveCdn(req: IncomingMessage, res: ServerResponse): void {
    this.record('cdn', req);
    const oid = /^\/blobs\/([0-9a-f]{64})$/.exec(req.url ?? '')?.[1] ?? '';
    const blob = this.blobs.get(oid);
    if (!blob) {
      res.writeHead(404);
      res.end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= blob.length) {
      res.writeHead(416);
      res.end();
      return;
    }
    const part = blob.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'content-length': String(part.length),
      ...(m ? { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` } : {}),
    });
    if (this.cutNextDownloads > 0) {
      this.cutNextDownloads--;
      res.write(part.subarray(0, Math.floor(part.length / 2)), () => res.destroy());
      return;
    }
    res.end(part);
  }
}
