/**
 * The HTTP layer of the Tinker client: one JSON request with a per-attempt timeout, `X-API-Key`,
 * and retries with exponential backoff + jitter on connection errors, timeouts, truncated or
 * unparsable bodies, 429 and 5xx (honouring `retry-after-ms`, `retry-after` and
 * `x-should-retry`). Retries live here and nowhere else.
 *
 * Retrying a POST is only safe because every training request carries its `seq_id` and the
 * server de-duplicates `(model_id, seq_id)` with an identical body: callers must resend the exact
 * same body, which this layer does by construction (it serialises once).
 */
import { RemoteEngineError } from '../../core/errors.ts';
import { Rng } from '../../core/rng.ts';

export interface HttpOptions {
  /** e.g. `http://127.0.0.1:8000` (no trailing `/api/v1`). */
  readonly baseUrl: string;
  readonly apiKey?: string;
  /** Per-attempt timeout in ms (default 60 000). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt (default 8). */
  readonly maxRetries?: number;
  /** First backoff in ms, doubled per retry (default 250). */
  readonly backoffBaseMs?: number;
  /** Backoff cap in ms (default 10 000). */
  readonly backoffMaxMs?: number;
  /** Seed of the jitter stream (default 0): reruns wait the same amounts. */
  readonly jitterSeed?: number;
}

export interface CallOptions {
  /** Statuses returned to the caller instead of retried or thrown (e.g. 408/410 on polls). */
  readonly passStatuses?: readonly number[];
  readonly timeoutMs?: number;
  /** Send these bytes instead of JSON (the protobuf forward_backward body). */
  readonly bytes?: { readonly data: Uint8Array; readonly contentType: string };
  /** The Accept header (default application/json). */
  readonly accept?: string;
  /**
   * Answer an attempt that hit `timeoutMs` with a synthetic 408 instead of retrying it: for long
   * polls, where a server holding the call longer than the client waits means "still pending"
   * (SkyRL tx holds `retrieve_future` for up to 300 s; the SDK's poll gives up after 45 s and polls
   * again). Connection errors are still retried and then thrown.
   */
  readonly timeoutIsPending?: boolean;
}

export interface HttpAnswer {
  readonly status: number;
  /** Parsed JSON, or the raw bytes when the answer is protobuf. */
  readonly body: unknown;
  readonly contentType: string;
}

/** Counters of what the layer had to do; the client exposes them as metrics. */
export interface HttpStats {
  requests: number;
  retries: number;
}

const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/** The message a server put in an error body (`detail` from FastAPI, `error` hosted), if any. */
export function errorText(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null) {
    const rec = body as Record<string, unknown>;
    const d = rec.detail ?? rec.error ?? rec.message;
    if (typeof d === 'string') return d;
    if (d !== undefined) return JSON.stringify(d);
  }
  if (typeof body === 'string' && body.length > 0) return body.slice(0, 500);
  return undefined;
}

/** How long a `retry-after-ms` / `retry-after` header asks us to wait, in ms. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get('retry-after');
  if (ra === null) return undefined;
  if (Number.isFinite(Number(ra))) return Math.max(0, Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export class TinkerHttp {
  readonly stats: HttpStats = { requests: 0, retries: 0 };
  private readonly base: string;
  private readonly jitter: Rng;

  constructor(private readonly opts: HttpOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.jitter = new Rng(opts.jitterSeed ?? 0);
  }

  /** Backoff before retry `attempt` (1-based): base·2^(attempt-1), capped, with ±50 % jitter. */
  backoffMs(attempt: number): number {
    const base = this.opts.backoffBaseMs ?? 250;
    const cap = this.opts.backoffMaxMs ?? 10_000;
    const raw = Math.min(cap, base * 2 ** (attempt - 1));
    return raw * (0.5 + this.jitter.next());
  }

  /**
   * Send one JSON request, retrying transient failures.
   * @returns the status and parsed body of a 2xx answer (or of a status in `passStatuses`).
   * @throws RemoteEngineError on a non-retryable status or when retries run out.
   */
  async call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    opts: CallOptions = {},
  ): Promise<HttpAnswer> {
    const url = `${this.base}${path}`;
    const payload = opts.bytes
      ? opts.bytes.data
      : body === undefined
        ? undefined
        : JSON.stringify(body);
    const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = opts.bytes ? opts.bytes.contentType : 'application/json';
    }
    if (this.opts.apiKey) headers['x-api-key'] = this.opts.apiKey;
    const maxRetries = this.opts.maxRetries ?? 8;
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 60_000;
    let lastProblem = '';
    let lastStatus: number | undefined;
    let lastBody: unknown;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) this.stats.retries++;
      this.stats.requests++;
      let waitMs: number | undefined;
      try {
        const res = await fetch(url, {
          method,
          headers,
          ...(payload !== undefined ? { body: payload } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const contentType = res.headers.get('content-type') ?? '';
        if (res.ok && contentType.includes('protobuf')) {
          const bytes = new Uint8Array(await res.arrayBuffer());
          return { status: res.status, body: bytes, contentType };
        }
        const text = await res.text();
        let parsed: unknown = undefined;
        let parseFailed = false;
        if (text.length > 0) {
          try {
            parsed = JSON.parse(text);
          } catch {
            parseFailed = true;
          }
        }
        if (opts.passStatuses?.includes(res.status)) {
          return { status: res.status, body: parsed, contentType };
        }
        if (res.ok && !parseFailed) return { status: res.status, body: parsed, contentType };
        lastStatus = res.status;
        lastBody = parsed ?? text.slice(0, 500);
        const shouldRetry = res.headers.get('x-should-retry');
        const retryable =
          shouldRetry === 'true' ||
          (shouldRetry !== 'false' && (RETRY_STATUSES.has(res.status) || (res.ok && parseFailed)));
        lastProblem = res.ok
          ? `unparsable (truncated?) body of ${text.length} bytes`
          : `HTTP ${res.status}${errorText(parsed) ? `: ${errorText(parsed)}` : ''}`;
        if (!retryable) {
          throw new RemoteEngineError(
            `${method} ${path} failed with ${lastProblem}`,
            path,
            res.status,
            lastBody,
          );
        }
        waitMs = retryAfterMs(res.headers);
      } catch (err) {
        if (err instanceof RemoteEngineError) throw err;
        if (opts.timeoutIsPending && isTimeout(err)) {
          return { status: 408, body: undefined, contentType: '' };
        }
        // fetch failures: connection refused/reset, socket closed mid-body, timeout.
        lastStatus = undefined;
        lastBody = undefined;
        lastProblem = describeFetchError(err, timeoutMs);
      }
      if (attempt < maxRetries) await sleep(waitMs ?? this.backoffMs(attempt + 1));
    }
    throw new RemoteEngineError(
      `${method} ${url} failed after ${maxRetries + 1} attempts; last problem: ${lastProblem}`,
      path,
      lastStatus,
      lastBody,
    );
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (isTimeout(err)) return `no answer within ${timeoutMs} ms`;
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return `connection error (${err.message}${detail})`;
  }
  return `connection error (${String(err)})`;
}

/** A promise that resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
