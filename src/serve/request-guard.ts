/**
 * What `spell serve` checks before a request reaches a route, so a web page open in the user's
 * browser cannot drive a server on 127.0.0.1:
 *
 * - Origin: browsers send it on every cross-origin POST. A request carrying an Origin other than the
 *   server's own (or one allowed with --allow-origin) is refused, key or not.
 * - Host: a DNS-rebinding page reaches 127.0.0.1 under its own name, so without an API key the Host
 *   header must name a loopback address. With a key the page cannot authenticate anyway, and
 *   clients of a non-loopback server use whatever name they reach it by.
 * - Content-Type (in http-util.ts): a request body must be JSON; text/plain, forms and multipart
 *   are what a page can send without a CORS preflight.
 *
 * Also: the binding rule (non-loopback needs a non-empty API key) and error-body scrubbing (no
 * absolute paths of the server's file system in answers).
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { HttpError } from './http-util.ts';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for addresses only this machine can reach (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (LOOPBACK_NAMES.has(h) || h.endsWith('.localhost')) return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The hostname part of a Host header (`[::1]:8000` → `::1`, `localhost:80` → `localhost`). */
export function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : h;
  }
  const colon = h.indexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

export interface GuardOptions {
  /** The port the server listens on (its own origins are http://<loopback>:<port>). */
  readonly port: number;
  /** The address bound. */
  readonly host: string;
  readonly apiKey: string | undefined;
  /** Origins (scheme://host[:port]) allowed besides the server's own. */
  readonly allowedOrigins: readonly string[];
}

/**
 * Refuse a request a browser page could have made on the user's behalf.
 * @throws HttpError 403 naming the refused Origin or Host
 */
export function checkRequestOrigin(req: IncomingMessage, opts: GuardOptions): void {
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, opts)) {
    throw new HttpError(
      403,
      `requests from origin '${origin.slice(0, 200)}' are refused (spell serve answers its own origin only; start it with --allow-origin ${origin.slice(0, 200)} to allow this page)`,
    );
  }
  if (opts.apiKey === undefined) {
    const host = req.headers.host;
    const name = host === undefined ? '' : hostnameOf(host);
    if (!isLoopbackHost(name) && name.toLowerCase() !== opts.host.toLowerCase()) {
      throw new HttpError(
        403,
        `Host '${(host ?? '').slice(0, 200)}' is refused: without --api-key spell serve answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1])`,
      );
    }
  }
}

function originAllowed(origin: string, opts: GuardOptions): boolean {
  if (opts.allowedOrigins.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:') return false;
  const port = url.port === '' ? 80 : Number(url.port);
  if (port !== opts.port) return false;
  const name = url.hostname.replace(/^\[|\]$/g, '');
  return isLoopbackHost(name) || name === opts.host;
}

/**
 * Replace absolute file-system paths in a message sent to a client by their last segment, so
 * answers do not reveal the server's folder layout (`/home/u/models/x/config.json` → `…/config.json`).
 */
export function scrubPaths(message: string): string {
  // Route paths (/api/v1/..., /v1/...) are the protocol's, not the server's files: kept.
  return message.replace(
    /(^|[\s'"(=:,[])(?!\/(?:api|v1)\/)(\/[^\s'"/)\],]+)+\/([^\s'"/)\],]*)/g,
    '$1…/$3',
  );
}
