/**
 * The `spell serve` HTTP server (node:http): the Tinker routes (tinker-service.ts), optional
 * OpenAI-compatible and vLLM-style routes (openai-routes.ts), health checks, an optional API key
 * and a request body limit. Binds 127.0.0.1 unless told otherwise.
 *
 * Robustness rules: every handler error becomes a JSON `{"detail"}` answer with a precise status;
 * nothing a client sends can throw out of the request handler. Health checks never touch an engine,
 * so they answer while a training step runs (the engines compute off the main thread).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { ConfigurationError, DataError, EngineError, SpellError } from '../core/errors.ts';
import * as proto from '../engine/tinker/proto.ts';
import { HttpError, readJsonBody, readRawBody, sendBytes, sendJson } from './http-util.ts';
import { checkRequestOrigin, isLoopbackHost, scrubPaths } from './request-guard.ts';
import { TinkerService, type EngineProvider, type TinkerServiceOptions } from './tinker-service.ts';

/**
 * A route that may stream its own answer (then it returns undefined after writing `res`).
 * `signal` aborts when the client hangs up before the answer is complete.
 */
export type RouteHandler = (
  body: unknown,
  res: ServerResponse,
  signal: AbortSignal,
) => Promise<unknown>;

export interface ExtraRoutes {
  readonly get: ReadonlyMap<string, () => Promise<unknown>>;
  readonly post: ReadonlyMap<string, RouteHandler>;
  /** Called when the server closes (e.g. to stop a worker the routes use). */
  readonly close?: () => Promise<void>;
}

export interface ServeOptions {
  readonly provider: EngineProvider;
  /** Default 127.0.0.1; anything else must be asked for explicitly, and needs `apiKey`. */
  readonly host?: string;
  /** 0 picks a free port. Default 8000. */
  readonly port?: number;
  /**
   * When set, every route but the health checks needs `X-API-Key` or `Authorization: Bearer`.
   * Must not be empty; required when `host` is not a loopback address.
   */
  readonly apiKey?: string;
  /** Origins (scheme://host[:port]) allowed besides the server's own (default none). */
  readonly allowedOrigins?: readonly string[];
  /** Engine limits and memory budget (see TinkerServiceOptions). */
  readonly limits?: Pick<
    TinkerServiceOptions,
    'maxEngines' | 'idleUnloadMs' | 'kvBudgetBytes' | 'kvOvercommit' | 'kvBytesPerToken'
  >;
  /** Largest accepted request body (default 64 MiB). */
  readonly maxBodyBytes?: number;
  /** retrieve_future hold time in ms (default 25 000). */
  readonly longPollMs?: number;
  /** Routes added by other front-ends (the OpenAI-compatible API). */
  readonly extraRoutes?: (service: TinkerService) => Promise<ExtraRoutes>;
}

export interface SpellServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly service: TinkerService;
  close(): Promise<void>;
}

const HEALTH_PATHS = new Set(['/api/v1/healthz', '/healthz', '/health']);

/**
 * Start the server and wait until the base engine has loaded.
 * @throws whatever the engine provider throws for a bad model folder.
 */
export async function startServer(opts: ServeOptions): Promise<SpellServer> {
  const host = opts.host ?? '127.0.0.1';
  if (opts.apiKey !== undefined && opts.apiKey.trim() === '') {
    throw new ConfigurationError(
      'the API key is empty; pass a non-empty --api-key (an empty key would disable authentication)',
    );
  }
  if (!isLoopbackHost(host) && opts.apiKey === undefined) {
    throw new ConfigurationError(
      `refusing to bind ${host} without an API key: anyone who can reach it could train and sample; pass --api-key <KEY> (or bind 127.0.0.1)`,
    );
  }
  const service = new TinkerService({
    provider: opts.provider,
    ...(opts.longPollMs !== undefined ? { longPollMs: opts.longPollMs } : {}),
    ...opts.limits,
  });
  try {
    await service.ready();
  } catch (err) {
    await service.close();
    throw err;
  }
  const extra = opts.extraRoutes ? await opts.extraRoutes(service) : undefined;
  const post = new Map<string, RouteHandler>(service.routes());
  for (const [path, h] of extra?.post ?? []) post.set(path, h);
  const get = new Map<string, () => Promise<unknown>>([
    ['/', () => Promise.resolve({ name: 'spell serve', model: opts.provider.modelName })],
    ['/api/v1/get_server_capabilities', () => service.capabilities()],
    ['/stats', () => Promise.resolve(service.stats())],
  ]);
  for (const [path, h] of extra?.get ?? []) get.set(path, h);
  const maxBody = opts.maxBodyBytes ?? 64 * 1024 * 1024;
  let boundPort = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = routePath(req.url);
    if (HEALTH_PATHS.has(path)) {
      req.resume();
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    checkRequestOrigin(req, {
      port: boundPort,
      host,
      apiKey: opts.apiKey,
      allowedOrigins: opts.allowedOrigins ?? [],
    });
    if (opts.apiKey !== undefined && !authorised(req, opts.apiKey)) {
      req.resume();
      throw new HttpError(
        401,
        'missing or wrong API key (send X-API-Key or Authorization: Bearer)',
      );
    }
    const samplerMatch = /^\/api\/v1\/samplers\/([^/]+)$/.exec(path);
    const finishMatch = /^\/api\/v1\/sessions\/([^/]+)\/finish$/.exec(path);
    if (method === 'GET') {
      req.resume();
      const h = get.get(path);
      if (h) return sendJson(res, 200, await h());
      if (samplerMatch) {
        return sendJson(res, 200, service.samplerInfo(decodePathSegment(samplerMatch[1])));
      }
    } else if (method === 'POST') {
      if (finishMatch) {
        const body = await readJsonBody(req, maxBody);
        return sendJson(
          res,
          200,
          await service.finishSession(decodePathSegment(finishMatch[1]), body),
        );
      }
      let h = post.get(path);
      if (h) {
        let body: unknown;
        if (path === '/api/v1/forward_backward' && isProtobuf(req)) {
          // SDK >= 0.25: protobuf body; forward-only passes come here too (`forward_only`).
          // application/x-protobuf is no CORS-simple type, so a page cannot send it unpreflighted.
          const decoded = proto.decodeForwardBackwardRequest(await readRawBody(req, maxBody));
          body = decoded.body;
          if (decoded.forwardOnly) h = post.get('/api/v1/forward') ?? h;
        } else {
          body = await readJsonBody(req, maxBody);
        }
        const out = await h(body, res, abortOnHangUp(res));
        if (res.headersSent) return;
        const kind = path === '/api/v1/retrieve_future' ? proto.protoResultKind(out) : undefined;
        if (kind !== undefined && acceptsProtobuf(req)) {
          const bytes =
            kind === 'sample'
              ? proto.encodeSampleResponse(out as proto.SampleResultOut)
              : proto.encodeForwardBackwardOutput(
                  out as Parameters<typeof proto.encodeForwardBackwardOutput>[0],
                );
          return sendBytes(res, 200, proto.PROTO_CONTENT_TYPE, bytes);
        }
        sendJson(res, 200, out);
        return;
      }
    } else {
      req.resume();
    }
    if (get.has(path) || post.has(path) || samplerMatch || finishMatch) {
      throw new HttpError(405, `method ${method} is not allowed on ${path}`);
    }
    throw new HttpError(404, `unknown route ${method} ${path}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const [status, detail] = toHttp(err);
      if (res.headersSent) {
        res.destroy(); // a stream broke midway; the client sees a truncated answer
        return;
      }
      // Stop reading an over-long or refused body, but answer first.
      res.setHeader('connection', 'close');
      sendJson(res, status, { detail: scrubPaths(detail) });
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  server.keepAliveTimeout = 5_000;
  const wanted = opts.port ?? 8000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(wanted, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await extra?.close?.();
    await service.close();
    throw listenError(err, host, wanted);
  }
  const port = (server.address() as AddressInfo).port;
  boundPort = port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    host,
    port,
    service,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await extra?.close?.();
      await service.close();
    },
  };
}

function isProtobuf(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').includes(proto.PROTO_CONTENT_TYPE);
}

/** The SDK (>= 0.25) asks for protobuf results of samples and forward/backward passes. */
function acceptsProtobuf(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes(proto.PROTO_CONTENT_TYPE);
}

/** The request's path without trailing slashes. @throws HttpError 400 for an unparsable URL */
function routePath(url: string | undefined): string {
  let path: string;
  try {
    path = new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    throw new HttpError(400, 'malformed request URL');
  }
  return path.replace(/\/+$/, '') || '/';
}

/** @throws HttpError 400 for malformed percent-encoding */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(
      400,
      `malformed percent-encoding in path segment '${segment.slice(0, 100)}'`,
    );
  }
}

/** An AbortSignal that fires when the client goes away before its answer was sent in full. */
function abortOnHangUp(res: ServerResponse): AbortSignal {
  const ctl = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ctl.abort(new HttpError(499, 'the client closed the request'));
  });
  return ctl.signal;
}

/**
 * Fail fast on an address that cannot be bound, before the model is loaded (which takes seconds to
 * minutes). `startServer` binds again, and reports a port taken in between the same way.
 * @throws ConfigurationError naming the port or address.
 */
export async function checkListenable(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (e) => reject(listenError(e, host, port)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** A failed listen as a one-line ConfigurationError (the CLI exits 2 with it). */
function listenError(err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new ConfigurationError(
      `port ${port} on ${host} is already in use; stop the other server or pass another --port (0 picks a free one)`,
    );
  }
  if (code === 'EACCES') {
    return new ConfigurationError(`no permission to listen on ${host}:${port}; use a port >= 1024`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new ConfigurationError(`cannot bind ${host}: not an address of this machine`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function authorised(req: IncomingMessage, key: string): boolean {
  const given = req.headers['x-api-key'];
  if (given === key) return true;
  const auth = req.headers.authorization;
  return auth === `Bearer ${key}`;
}

/** Map any thrown value to a status and a message. */
function toHttp(err: unknown): [number, string] {
  if (err instanceof HttpError) return [err.status, err.message];
  if (err instanceof DataError || err instanceof ConfigurationError || err instanceof EngineError) {
    return [400, err.message];
  }
  if (err instanceof SpellError) return [500, `${err.name}: ${err.message}`];
  return [500, `internal error: ${err instanceof Error ? err.message : String(err)}`];
}
