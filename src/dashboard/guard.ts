/**
 * Request checks of a loopback-only server. A page on another site can make the browser send
 * requests to 127.0.0.1 (and, by DNS rebinding, read the answers under its own name), so every
 * request must name this server in Host, and any Origin must be this server's own.
 */

/** The Host header values a server bound to 127.0.0.1:`port` answers to. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/**
 * Why a request must be refused (a short reason for a 403), or undefined when it may proceed.
 * @param host the Host header; required, compared case-insensitively
 * @param origin the Origin header when present (browsers send it on cross-origin and SSE requests)
 */
export function refuseReason(
  host: string | undefined,
  origin: string | undefined,
  allowed: ReadonlySet<string>,
): string | undefined {
  if (host === undefined || !allowed.has(host.toLowerCase()))
    return `Host ${JSON.stringify(host ?? '')} is not this server`;
  if (origin !== undefined && origin !== 'null') {
    let o: URL;
    try {
      o = new URL(origin);
    } catch {
      return `Origin ${JSON.stringify(origin)} is not a URL`;
    }
    if (o.protocol !== 'http:' || !allowed.has(o.host.toLowerCase()))
      return `Origin ${JSON.stringify(origin)} is not this server`;
  } else if (origin === 'null') {
    return 'Origin null (a sandboxed or file page) is not this server';
  }
  return undefined;
}
