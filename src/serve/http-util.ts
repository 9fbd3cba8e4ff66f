/**
 * Small node:http helpers for `spell serve`: a typed HttpError that handlers throw, a body reader
 * with a size limit, JSON answers, and zod validation that names the offending field.
 * Errors are sent FastAPI-style as `{"detail": ...}` so Tinker and OpenAI clients both read them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

/** An HTTP error with a precise status; the router sends `{"detail": message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** JSON nested deeper than this is refused (serialising it again would overflow the stack). */
export const MAX_JSON_DEPTH = 64;

/**
 * True for `application/json` and `+json` media types. A body of any other type is refused: text/plain,
 * forms and multipart are what a web page can send cross-origin without a CORS preflight.
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const media = header.split(';')[0].trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}

/**
 * Read and parse a JSON body of at most `limitBytes`.
 * @throws HttpError 413 when too large, 415 for a non-JSON Content-Type (protobuf included: only the
 *   routes that take protobuf read it, with readRawBody), 400 when not JSON or nested deeper than
 *   MAX_JSON_DEPTH
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const type = req.headers['content-type'];
  const declared = Number(req.headers['content-length'] ?? '0');
  const hasBody = declared > 0 || req.headers['transfer-encoding'] !== undefined;
  // An oversized body is a 413 whatever its type; readRawBody refuses it before reading.
  if (declared <= limitBytes && hasBody && !isJsonContentType(type)) {
    req.resume();
    throw new HttpError(
      415,
      `request bodies must be sent as Content-Type: application/json, got '${(type ?? '(none)').slice(0, 100)}'`,
    );
  }
  const text = (await readRawBody(req, limitBytes)).toString('utf8');
  if (text.trim().length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, `malformed JSON body: ${(err as Error).message}`);
  }
  if (jsonDepthExceeds(parsed, MAX_JSON_DEPTH)) {
    throw new HttpError(400, `JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return parsed;
}

/**
 * Read a body of at most `limitBytes` as bytes (the caller checks its Content-Type).
 * @throws HttpError 413 when too large, 415 for a content encoding other than identity.
 */
export async function readRawBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limitBytes) {
    req.resume();
    throw new HttpError(
      413,
      `request body of ${declared} bytes exceeds the limit of ${limitBytes}`,
    );
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    req.resume();
    throw new HttpError(
      415,
      `Content-Encoding '${encoding}' is not supported (spell serve does not ask clients to compress)`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limitBytes) {
      throw new HttpError(413, `request body exceeds the limit of ${limitBytes} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Whether a parsed JSON value nests arrays/objects deeper than `limit` (iterative: no recursion). */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Validate a parsed body; a failure is a 400 naming the first bad field and what was expected. */
export function parseBody<T extends z.ZodType>(
  schema: T,
  body: unknown,
  route: string,
): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 3).map((i) => {
    const where = i.path.length > 0 ? i.path.join('.') : '(body)';
    return `${where}: ${i.message}`;
  });
  throw new HttpError(400, `invalid ${route} request: ${issues.join('; ')}`);
}

/** Send a JSON answer (unless the client already hung up). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Send bytes with a content type (protobuf answers). */
export function sendBytes(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: Uint8Array,
): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': body.byteLength });
  res.end(body);
}
