/**
 * A real HTTP proxy on 127.0.0.1 that misbehaves on purpose, in front of `spell serve`. Each path
 * has a queue of faults; every request to that path takes the next one ('pass' when empty).
 * "-after" faults forward the request first, so the server has acted before the client sees the
 * failure — the case where a careless retry would apply an update twice.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | 'pass'
  | 'status-500'
  | 'status-503-retry-after'
  | 'status-408'
  | 'status-410'
  | 'drop-before'
  | 'drop-after'
  | 'truncate-after'
  | 'slow-after';

export class FaultProxy {
  /** Faults that fired, in order, as `path fault`. */
  readonly fired: string[] = [];
  private readonly queues = new Map<string, Fault[]>();
  private server: Server | undefined;

  constructor(
    private readonly target: string,
    /** How long a 'slow-after' answer is held back. */
    private readonly slowMs = 2_500,
  ) {}

  /** Queue faults for the next requests to `path`. */
  inject(path: string, ...faults: Fault[]): void {
    const q = this.queues.get(path) ?? [];
    q.push(...faults);
    this.queues.set(path, q);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const fault = this.queues.get(path)?.shift() ?? 'pass';
    if (fault !== 'pass') this.fired.push(`${path} ${fault}`);
    const reply = (status: number, json: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(json));
    };
    switch (fault) {
      case 'status-500':
        return reply(500, { detail: 'injected server error' });
      case 'status-503-retry-after':
        return reply(503, { detail: 'injected overload' }, { 'retry-after-ms': '30' });
      case 'status-408':
        return reply(408, { detail: 'Timeout waiting for result' });
      case 'status-410':
        return reply(410, { detail: 'injected: promise expired' });
      case 'drop-before':
        res.socket?.destroy();
        return;
      default:
        break;
    }
    const upstream = await fetch(`${this.target}${path}`, {
      method: req.method ?? 'GET',
      headers: {
        'content-type': 'application/json',
        ...(req.headers['x-api-key'] ? { 'x-api-key': String(req.headers['x-api-key']) } : {}),
      },
      ...(req.method === 'POST' ? { body } : {}),
    });
    const text = await upstream.text();
    if (fault === 'drop-after') {
      res.socket?.destroy();
      return;
    }
    if (fault === 'truncate-after') {
      res.writeHead(upstream.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.write(text.slice(0, Math.floor(text.length / 2)));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (fault === 'slow-after') await new Promise((r) => setTimeout(r, this.slowMs));
    if (res.destroyed) return;
    res.writeHead(upstream.status, { 'content-type': 'application/json' });
    res.end(text);
  }
}
