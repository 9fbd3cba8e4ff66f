import { describe, expect, test } from 'vitest';
import { errorText, retryAfterMs, TinkerHttp } from './http.ts';

describe('TinkerHttp helpers', () => {
  test('retry hints: retry-after-ms wins, then seconds, then an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(
      3000,
    );
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });

  test('backoff doubles per attempt within ±50 % jitter and respects the cap', () => {
    const http = new TinkerHttp({
      baseUrl: 'http://127.0.0.1:1',
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
    });
    const waits = [1, 2, 3, 4, 5, 6].map((a) => http.backoffMs(a));
    [100, 200, 400, 800, 1000, 1000].forEach((base, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(base * 0.5);
      expect(waits[i]).toBeLessThan(base * 1.5);
    });
  });

  test('error bodies: FastAPI detail, hosted error, or raw text', () => {
    expect(errorText({ detail: 'bad seq' })).toBe('bad seq');
    expect(errorText({ error: 'boom', category: 'user' })).toBe('boom');
    expect(errorText({ detail: [{ loc: ['x'] }] })).toBe('[{"loc":["x"]}]');
    expect(errorText('plain')).toBe('plain');
    expect(errorText({})).toBeUndefined();
  });
});
