/**
 * The Tinker futures protocol, client side (tinker-protocol.md §1.2): a future-returning POST gives
 * a `request_id`; `retrieve_future` is long-polled until it yields the result.
 *
 * Pending is `{"type":"try_again"}` (hosted) or HTTP 408 (SkyRL); 410 means the promise is gone and
 * the original request must be re-submitted (same body, same seq_id — the server de-duplicates, so
 * this never applies an update twice); failures are `{"error","category"}` (hosted) or HTTP 400
 * `{"detail"}` (SkyRL). TINKEX-style `{"status": ...}` wrappers are accepted defensively.
 */
import { RemoteEngineError } from '../../core/errors.ts';
import { errorText, sleep, type TinkerHttp } from './http.ts';
import { PROTO_CONTENT_TYPE } from './proto.ts';
import { futureSubmittedSchema } from './wire.ts';

export interface FutureOptions {
  /** Client timeout of one long poll, ms (default 45 000, as the SDK). */
  readonly pollTimeoutMs?: number;
  /** Give up on one future after this long, ms (default 30 min). */
  readonly overallTimeoutMs?: number;
  /** How many 410-triggered re-submissions to allow per future (default 5). */
  readonly maxResubmits?: number;
}

/**
 * A protobuf result decoder: with one, polls ask for `Accept: application/x-protobuf` (as SDK
 * >= 0.25 does for samples and forward/backward outputs) and a protobuf answer is decoded into
 * the JSON wire shape; a server that ignores the header answers JSON, which is used as is.
 */
export type ProtoDecoder = (bytes: Uint8Array) => unknown;

/** POST a future-returning request; returns its request id (retries are inside `http`). */
export async function submitFuture(
  http: TinkerHttp,
  path: string,
  body: unknown,
  bytes?: { readonly data: Uint8Array; readonly contentType: string },
): Promise<string> {
  const res = await http.call('POST', path, body, bytes ? { bytes } : {});
  const parsed = futureSubmittedSchema.safeParse(res.body);
  if (!parsed.success) {
    throw new RemoteEngineError(
      `POST ${path} answered without a request_id; expected {"request_id": ...}`,
      path,
      res.status,
      res.body,
    );
  }
  return parsed.data.request_id;
}

/**
 * Poll `retrieve_future` until the result arrives.
 * @param resubmit re-sends the original request (identical body) and returns the new request id.
 * @returns the bare result object (still to be validated by the caller).
 * @throws RemoteEngineError when the request failed, the future is unknown, or time ran out.
 */
export async function awaitFuture(
  http: TinkerHttp,
  requestId: string,
  what: string,
  resubmit: () => Promise<string>,
  opts: FutureOptions = {},
  proto?: ProtoDecoder,
): Promise<unknown> {
  const endpoint = '/api/v1/retrieve_future';
  const deadline = Date.now() + (opts.overallTimeoutMs ?? 30 * 60_000);
  const maxResubmits = opts.maxResubmits ?? 5;
  let resubmits = 0;
  let bare400 = 0;
  let id = requestId;
  for (;;) {
    if (Date.now() > deadline) {
      throw new RemoteEngineError(
        `${what} (request ${id}) did not complete within ${opts.overallTimeoutMs ?? 1_800_000} ms`,
        endpoint,
      );
    }
    const res = await http.call(
      'POST',
      endpoint,
      { request_id: id, allow_metadata_only: false },
      {
        passStatuses: [400, 408, 410],
        timeoutMs: opts.pollTimeoutMs ?? 45_000,
        timeoutIsPending: true,
        ...(proto ? { accept: `${PROTO_CONTENT_TYPE}, application/json` } : {}),
      },
    );
    if (res.body instanceof Uint8Array) {
      if (!proto) {
        throw new RemoteEngineError(
          `${what}: retrieve_future answered protobuf (${res.contentType}) to a JSON request`,
          endpoint,
          res.status,
        );
      }
      try {
        return proto(res.body);
      } catch (err) {
        throw new RemoteEngineError(
          `${what}: the protobuf result could not be decoded (${(err as Error).message})`,
          endpoint,
          res.status,
        );
      }
    }
    if (res.status === 408) {
      // SkyRL holds the call up to 300 s before a 408, and a poll that outlives our own wait
      // comes back as a 408 too (http.ts); a proxy may answer at once.
      await sleep(10);
      continue;
    }
    if (res.status === 410) {
      if (++resubmits > maxResubmits) {
        throw new RemoteEngineError(
          `${what}: the server dropped the future ${maxResubmits + 1} times (HTTP 410); giving up`,
          endpoint,
          410,
          res.body,
        );
      }
      id = await resubmit();
      continue;
    }
    if (res.status === 400) {
      const text = errorText(res.body);
      // A bare 400 may come from a proxy, so it gets two more tries; a 400 with a body is SkyRL's
      // way of reporting a failed request.
      if (text === undefined && ++bare400 <= 2) continue;
      throw new RemoteEngineError(
        `${what} failed on the server: ${text ?? 'HTTP 400 without a body'}`,
        endpoint,
        400,
        res.body,
      );
    }
    const body = res.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RemoteEngineError(
        `${what}: retrieve_future answered ${JSON.stringify(body)}; expected a JSON object`,
        endpoint,
        res.status,
        body,
      );
    }
    const rec = body as Record<string, unknown>;
    if (rec.type === 'try_again' || rec.status === 'pending') {
      await sleep(10); // hosted holds the call itself; this only guards against a hot loop
      continue;
    }
    if (rec.status === 'complete_metadata') continue;
    if ('error' in rec || rec.status === 'failed') {
      const category = typeof rec.category === 'string' ? rec.category : 'unknown';
      throw new RemoteEngineError(
        `${what} failed on the server (${category} error): ${errorText(rec) ?? 'no message'}`,
        endpoint,
        res.status,
        body,
      );
    }
    if (rec.status === 'completed' && 'result' in rec) return rec.result;
    return body;
  }
}
