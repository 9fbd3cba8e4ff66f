import { describe, expect, test } from 'vitest';
import { allowedHosts, refuseReason } from './guard.ts';

const allowed = allowedHosts(8765);

describe('loopback request guard', () => {
  test.each([
    ['127.0.0.1:8765', undefined],
    ['localhost:8765', undefined],
    ['LOCALHOST:8765', undefined],
    ['[::1]:8765', undefined],
    ['127.0.0.1:8765', 'http://127.0.0.1:8765'],
    ['localhost:8765', 'http://localhost:8765'],
  ])('Host %s with Origin %s is served', (host, origin) => {
    expect(refuseReason(host, origin, allowed)).toBeUndefined();
  });

  test.each([
    [undefined, undefined, /Host/],
    ['evil.example:8765', undefined, /Host/],
    ['127.0.0.1:9999', undefined, /Host/],
    ['127.0.0.1', undefined, /Host/],
    ['127.0.0.1:8765', 'http://evil.example', /Origin/],
    ['127.0.0.1:8765', 'https://127.0.0.1:8765', /Origin/],
    ['127.0.0.1:8765', 'http://127.0.0.1:8766', /Origin/],
    ['127.0.0.1:8765', 'null', /Origin null/],
    ['127.0.0.1:8765', 'garbage', /not a URL/],
  ])('Host %s with Origin %s is refused (DNS rebinding, other sites)', (host, origin, why) => {
    expect(refuseReason(host, origin, allowed)).toMatch(why);
  });
});
