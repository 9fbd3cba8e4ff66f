/**
 * A misbehaving HTTP proxy on 127.0.0.1 in front of a real endpoint: it forwards requests, but
 * fails some of them on purpose. Mode `every-k` answers every k-th POST with an HTTP 503 (or,
 * alternately, drops the connection); mode `down` answers every POST with HTTP 500. The mode can
 * be switched while it runs. Counts what it did.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyMode =
  { readonly kind: 'every-k'; readonly k: number } | { readonly kind: 'down' };

export class FlakyProxy {
  mode: ProxyMode;
  readonly stats = { forwarded: 0, failed503: 0, dropped: 0, failed500: 0 };
  private posts = 0;
  private server: Server | undefined;

  constructor(
    private readonly target: string,
    mode: ProxyMode,
  ) {
    this.mode = mode;
  }

  async start(): Promise<string> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST') {
          this.posts++;
          if (this.mode.kind === 'down') {
            this.stats.failed500++;
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: 'proxy: upstream is down' } }));
            return;
          }
          if (this.posts % this.mode.k === 0) {
            if ((this.posts / this.mode.k) % 2 === 1) {
              this.stats.failed503++;
              res.writeHead(503, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ error: { message: 'proxy: try again' } }));
            } else {
              this.stats.dropped++;
              req.socket.destroy();
            }
            return;
          }
        }
        this.stats.forwarded++;
        const up = request(
          {
            host: target.hostname,
            port: target.port,
            path: req.url,
            method: req.method,
            headers: { ...req.headers, host: target.host },
          },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        up.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
