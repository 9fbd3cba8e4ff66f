/**
 * The HTTP client the `spell serve` tests share: raw requests (node:http, so Host, Origin and
 * Content-Type can be anything, and a request can be abandoned mid-way), JSON posts, Tinker
 * futures polled to their result, and `/stats`.
 */
import { request } from 'node:http';

export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are untyped JSON here
  json: any;
  text: string;
}

export interface RawOptions {
  readonly method?: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  /** Abandon the request (close the socket) when this aborts; the promise then rejects. */
  readonly signal?: AbortSignal;
}

export interface ServeClient {
  raw: (path: string, opts?: RawOptions) => Promise<Answer>;
  /** POST a JSON body (a string is sent as it is) with Content-Type application/json. */
  post: (path: string, body: unknown, headers?: Record<string, string>) => Promise<Answer>;
  /** Poll a Tinker future until it is no longer `try_again` (bounded). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- retrieve_future results are untyped JSON
  result: (requestId: string) => Promise<any>;
  /** A new Tinker session id. */
  session: () => Promise<string>;
  /** `GET /stats`. */
  stats: () => Promise<Record<string, number>>;
}

/** A client of the server at `baseUrl` (read when a request is made, so it may be set later). */
export function serveClient(baseUrl: () => string): ServeClient {
  const raw = (path: string, opts: RawOptions = {}): Promise<Answer> => {
    const url = new URL(baseUrl());
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
          headers: opts.headers ?? {},
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('error', reject);
          res.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, json, text });
          });
        },
      );
      req.on('error', reject);
      if (opts.body !== undefined) req.end(opts.body);
      else req.end();
    });
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    raw(path, {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });
  return {
    raw,
    post,
    async result(requestId) {
      for (let i = 0; i < 600; i++) {
        const r = await post('/api/v1/retrieve_future', { request_id: requestId });
        if (r.json?.type !== 'try_again') return r.json;
      }
      throw new Error(`future ${requestId} did not settle`);
    },
    async session() {
      return (await post('/api/v1/create_session', { tags: [], sdk_version: '0.24.1' })).json
        .session_id as string;
    },
    async stats() {
      return (await raw('/stats')).json as Record<string, number>;
    },
  };
}
