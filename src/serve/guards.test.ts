/**
 * Pure pieces of the serve hardening: KV admission, engine-slot cancellation, JSON depth and
 * content types, path scrubbing, loopback names.
 */
import { describe, expect, test } from 'vitest';
import type { PolicyEngine } from '../engine/types.ts';
import { HttpError, isJsonContentType, jsonDepthExceeds } from './http-util.ts';
import { KvBudget } from './kv-budget.ts';
import { hostnameOf, isLoopbackHost, scrubPaths } from './request-guard.ts';
import { EngineSlot } from './tinker-service.ts';

const status = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof HttpError ? err.status : -1;
  }
  return undefined;
};

describe('KV budget', () => {
  test('a request that can never fit is a 400 naming the budget; past the over-commit it is a 429', async () => {
    const kv = new KvBudget(1000, 10, 2); // 100 token positions, admitted worst cases up to 200
    expect(status(() => kv.claim(101, 'asample', () => Promise.resolve()))).toBe(400);
    let release!: () => void;
    const running = kv.claim(60, 'asample', () => new Promise<void>((r) => (release = r)));
    expect(kv.reservedBytes).toBe(600);
    // Admitted although 60 + 90 positions exceed the budget: caches grow lazily, the worker
    // preempts if they ever collide.
    let release2!: () => void;
    const second = kv.claim(90, 'asample', () => new Promise<void>((r) => (release2 = r)));
    expect(kv.reservedBytes).toBe(1500);
    expect(status(() => kv.claim(60, 'asample', () => Promise.resolve()))).toBe(429);
    release();
    release2();
    await Promise.all([running, second]);
    expect(kv.reservedBytes).toBe(0);
    await kv.claim(100, 'asample', () => Promise.resolve());
    expect(() => kv.claim(101, 'asample', () => Promise.resolve())).toThrow(
      /KV budget of 0\.0 MiB \(--kv-budget-mb\)/,
    );
  });

  test('a failed request gives its memory back', async () => {
    const kv = new KvBudget(1000, 10);
    await expect(kv.claim(100, 'x', () => Promise.reject(new Error('boom')))).rejects.toThrow();
    expect(kv.reservedBytes).toBe(0);
  });
});

describe('engine slot', () => {
  const engine = Promise.resolve({} as PolicyEngine);

  test('work queued behind a running call is skipped once its client hung up', async () => {
    const slot = new EngineSlot(engine);
    let finishFirst!: () => void;
    const first = slot.run(() => new Promise<void>((r) => (finishFirst = r)));
    const ctl = new AbortController();
    let ran = false;
    const second = slot.run(() => {
      ran = true;
      return Promise.resolve();
    }, ctl.signal);
    ctl.abort(new HttpError(499, 'gone'));
    await new Promise((r) => setImmediate(r)); // the first call has started
    finishFirst();
    await first;
    await expect(second).rejects.toThrow(/gone/);
    expect(ran).toBe(false);
    expect(slot.busy).toBe(false);
  });

  test('a retired slot refuses new work with its reason', async () => {
    let closed = 0;
    const slot = new EngineSlot(
      Promise.resolve({ close: () => Promise.resolve(void closed++) } as unknown as PolicyEngine),
    );
    await slot.retire('checkpoint was saved again');
    expect(closed).toBe(1);
    await expect(slot.run(() => Promise.resolve())).rejects.toThrow(/saved again/);
  });
});

describe('request checks', () => {
  test('JSON depth is measured without recursion', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(jsonDepthExceeds(deep, 64)).toBe(true);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 64)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 2)).toBe(true);
  });

  test('only JSON media types count as JSON', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/vnd.api+json')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType('application/x-www-form-urlencoded')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });

  test('loopback names', () => {
    for (const h of ['localhost', '127.0.0.1', '127.5.0.1', '::1', 'app.localhost']) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ['0.0.0.0', '192.168.1.2', 'evil.example', '127.0.0.1.evil.example', '::']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
    expect(hostnameOf('[::1]:8000')).toBe('::1');
    expect(hostnameOf('localhost:80')).toBe('localhost');
  });

  test('absolute paths leave error messages as their last segment; routes and URIs stay', () => {
    expect(scrubPaths('checkpoint /home/u/ckpt/model-1 does not exist')).toBe(
      'checkpoint …/model-1 does not exist',
    );
    expect(scrubPaths("cannot read '/tmp/a/b.json': bad")).toBe("cannot read '…/b.json': bad");
    expect(scrubPaths('unknown route POST /api/v1/foo')).toBe('unknown route POST /api/v1/foo');
    expect(scrubPaths('tinker://model-a/weights/x')).toBe('tinker://model-a/weights/x');
  });
});
