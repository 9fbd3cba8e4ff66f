/**
 * `spell dashboard`: a loopback-only HTTP server for one or more run directories. It follows the
 * runs with one timer (no client polling: changes go out as server-sent events), answers a small
 * JSON API, and serves a fixed set of bundled assets. No request names a file: runs are addressed
 * by number, steps by integer and clusters through a map, so no URL can reach another path.
 */
import { existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { ConfigurationError } from '../core/errors.ts';
import { CHART_SPECS } from '../report/chart-specs.ts';
import { buildAssets, type Asset } from './client-bundle.ts';
import { ClusterDocs, corpusOf } from './cluster-docs.ts';
import { allowedHosts, refuseReason } from './guard.ts';
import type { RolloutFilter } from './query.ts';
import { queryRollouts, questionStory } from './rollout-api.ts';
import { RunSource, type MetricsRow } from './run-source.ts';

export interface DashboardOptions {
  readonly runDirs: readonly string[];
  /** 0 picks a free port. */
  readonly port: number;
  /** How often the run directories are checked for new steps (ms). */
  readonly pollMs?: number;
  /** Where relative corpus paths of a run's config resolve (the directory training ran in). */
  readonly cwd?: string;
  /** Most concurrent event streams; more are refused with 503. */
  readonly maxClients?: number;
}

export interface Dashboard {
  readonly url: string;
  readonly port: number;
  /** Check the runs now (the timer does it every pollMs). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: Buffer | string): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function intParam(
  q: URLSearchParams,
  name: string,
  min: number,
  max: number,
  def?: number,
): number {
  const raw = q.get(name);
  if (raw === null || raw === '') {
    if (def !== undefined) return def;
    throw new HttpError(400, `missing query parameter ${name}`);
  }
  if (!/^-?\d+$/.test(raw)) throw new HttpError(400, `${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new HttpError(400, `${name} must be in ${min}..${max}, got ${n}`);
  return n;
}

function numParam(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new HttpError(400, `${name} must be a number, got "${raw}"`);
  return n;
}

function strParam(q: URLSearchParams, name: string, max = 500): string | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw.length > max) throw new HttpError(400, `${name} is longer than ${max} characters`);
  return raw;
}

function filterOf(q: URLSearchParams): RolloutFilter {
  const trained = q.get('trained');
  const f: Record<string, unknown> = {};
  const put = (k: string, v: unknown): void => {
    if (v !== undefined) f[k] = v;
  };
  put('role', strParam(q, 'role'));
  put('task', strParam(q, 'task'));
  put('label', strParam(q, 'label'));
  put('rewardMin', numParam(q, 'rmin'));
  put('rewardMax', numParam(q, 'rmax'));
  put('trained', trained === '1' ? true : trained === '0' ? false : undefined);
  put('text', strParam(q, 'q'));
  return f;
}

function pickKeys(
  rows: readonly MetricsRow[],
  keys: ReadonlySet<string> | undefined,
): MetricsRow[] {
  if (keys === undefined) return [...rows];
  return rows.map((r) => {
    const o: MetricsRow = {};
    for (const k of keys) if (k in r) o[k] = r[k];
    return o;
  });
}

/** Validate the run directories (each must exist and be a directory). */
function openRuns(dirs: readonly string[]): RunSource[] {
  if (dirs.length === 0) throw new ConfigurationError('spell dashboard needs at least one RUN_DIR');
  return dirs.map((d, i) => {
    const root = resolve(d);
    if (!existsSync(root)) throw new ConfigurationError(`run directory ${d} does not exist`);
    if (!statSync(root).isDirectory())
      throw new ConfigurationError(`run directory ${d} is not a directory`);
    return new RunSource(i, root);
  });
}

/** Start the server on 127.0.0.1; resolves once it listens. */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const runs = openRuns(opts.runDirs);
  const cwd = opts.cwd ?? process.cwd();
  const docs = runs.map((r) => new ClusterDocs(() => corpusOf(`${r.root}/config.yaml`, cwd)));
  const assets: ReadonlyMap<string, Asset> = await buildAssets();
  const maxClients = opts.maxClients ?? 32;
  const streams = new Set<ServerResponse>();
  let allowed = new Set<string>();

  const broadcast = (event: string, data: unknown): void => {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of streams) res.write(text);
  };

  /** New metrics rows and step files of every run, sent out at once (cheap: no indexing). */
  const follow = async (): Promise<void> => {
    for (const run of runs) {
      const ch = await run.refresh();
      if (ch.reset || ch.rows.length > 0)
        broadcast('metrics', { run: run.id, reset: ch.reset, rows: ch.rows });
      if (ch.steps.length > 0)
        broadcast('steps', {
          run: run.id,
          steps: run.steps(),
          changed: ch.steps,
          facets: run.facets(),
        });
    }
  };
  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    refreshing ??= (async () => {
      await follow();
      // then index what is new, so the label/role/task counts cover the run (a long run's
      // first pass streams every step file once, in the background of a listening server)
      for (const run of runs) {
        if ((await run.summarisePending()) > 0)
          broadcast('steps', {
            run: run.id,
            steps: run.steps(),
            changed: [],
            facets: run.facets(),
          });
      }
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  const runOf = (raw: string): RunSource => {
    const run = /^\d+$/.test(raw) ? runs[Number(raw)] : undefined;
    if (run === undefined) throw new HttpError(404, `no run ${raw}`);
    return run;
  };

  const api = async (path: string, q: URLSearchParams, res: ServerResponse): Promise<void> => {
    if (path === '/api/runs') {
      sendJson(res, 200, {
        charts: CHART_SPECS,
        runs: runs.map((r) => ({
          id: r.id,
          name: r.name,
          root: r.root,
          steps: r.steps(),
          facets: r.facets(),
          metricKeys: [...r.metricKeys].sort(),
        })),
      });
      return;
    }
    const m = /^\/api\/runs\/([^/]+)\/(metrics|rollouts|question)$/.exec(path);
    if (m?.[1] === undefined) throw new HttpError(404, `no route ${path}`);
    const run = runOf(m[1]);
    if (m[2] === 'metrics') {
      const keys = strParam(q, 'keys', 64_000);
      const set = keys === undefined ? undefined : new Set(['step', ...keys.split(',')]);
      sendJson(res, 200, { rows: pickKeys(run.metrics, set) });
    } else if (m[2] === 'rollouts') {
      const stepsRaw = q.get('step') ?? 'all';
      const steps =
        stepsRaw === 'all' ? run.steps() : [intParam(q, 'step', 0, Number.MAX_SAFE_INTEGER)];
      const offset = intParam(q, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
      const limit = intParam(q, 'limit', 1, 500, 50);
      sendJson(res, 200, await queryRollouts(run, steps, filterOf(q), offset, limit));
    } else {
      const step = intParam(q, 'step', 0, Number.MAX_SAFE_INTEGER);
      const uid = strParam(q, 'uid');
      if (uid === undefined) throw new HttpError(400, 'missing query parameter uid');
      const story = await questionStory(run, docs[run.id], step, uid);
      if (story === undefined) throw new HttpError(404, `no question ${uid} in step ${step}`);
      sendJson(res, 200, story);
    }
  };

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    if (streams.size >= maxClients) throw new HttpError(503, 'too many open event streams');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const refused = refuseReason(req.headers.host, req.headers.origin, allowed);
    if (refused !== undefined) throw new HttpError(403, refused);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, `${req.method ?? ''} is not allowed; the dashboard is read-only`);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const asset = assets.get(url.pathname);
    if (asset !== undefined) return send(res, 200, asset.type, asset.body);
    if (url.pathname === '/api/events') return events(req, res);
    if (url.pathname === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
    if (url.pathname.startsWith('/api/')) return api(url.pathname, url.searchParams, res);
    throw new HttpError(404, `no such page ${url.pathname}`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      sendJson(res, status, { error: message });
    });
  });
  // bounded request handling: no bodies are read, slow or idle clients are cut
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // event streams stay open; headersTimeout still bounds the request
  server.maxHeadersCount = 64;

  await follow();
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'EADDRINUSE'
          ? new ConfigurationError(`port ${opts.port} on 127.0.0.1 is in use; pass another --port`)
          : err,
      ),
    );
    server.listen(opts.port, '127.0.0.1', () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  allowed = allowedHosts(port);
  const tick = (): void => void refresh().catch(() => undefined);
  tick();
  const timer = setInterval(tick, opts.pollMs ?? 1000);
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, 15_000);

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    refresh,
    close: async () => {
      clearInterval(timer);
      clearInterval(heartbeat);
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((ok) => server.close(() => ok()));
      await refreshing;
    },
  };
}
