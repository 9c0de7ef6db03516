import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, createRateLimiter, rateLimitHeaders } from './rate-limit.js';

describe('token bucket rate limiter', () => {
  it('allows the burst at once, then refills at the rate', () => {
    const limiter = createRateLimiter({ ratePerSecond: 2, burst: 3 });
    const at = (t: number) => limiter.take('a', t);
    expect([at(0), at(0), at(0)].map((d) => d.allowed)).toEqual([true, true, true]);
    const refused = at(0);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1, limit: 3 });
    expect(rateLimitHeaders(refused)).toEqual({
      'ratelimit-limit': '3',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '2',
      'retry-after': '1',
    });
    expect(at(499).allowed).toBe(false);
    expect(at(500).allowed).toBe(true);
    expect(at(500).allowed).toBe(false);
  });

  it('keeps clients apart', () => {
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1 });
    expect(limiter.take('a', 0).allowed).toBe(true);
    expect(limiter.take('a', 0).allowed).toBe(false);
    expect(limiter.take('b', 0).allowed).toBe(true);
  });

  it('drops buckets once idle long enough to be full, and never holds more than maxClients', () => {
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 10, maxClients: 1000 });
    for (let i = 0; i < 5000; i++) limiter.take(`client-${i}`, i * 0.01);
    expect(limiter.size).toBeLessThanOrEqual(1000);
    limiter.take('late', 10_000);
    expect(limiter.size).toBe(1);
  });

  it('refuses nonsense settings', () => {
    expect(() => createRateLimiter({ ratePerSecond: 0 })).toThrow(/positive/);
    expect(() => createRateLimiter({ ratePerSecond: 1, burst: 0.5 })).toThrow(/burst/);
    expect(() => createRateLimiter({ ratePerSecond: 1, maxClients: 0 })).toThrow(/maxClients/);
  });

  it('uses the socket address unless proxies are trusted, then the entry they added', () => {
    const request = (xff?: string) =>
      ({
        socket: { remoteAddress: '10.0.0.1' },
        headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
      }) as unknown as IncomingMessage;
    expect(clientAddress(request('1.2.3.4'))).toBe('10.0.0.1');
    expect(clientAddress(request('6.6.6.6, 1.2.3.4'), 1)).toBe('1.2.3.4');
    expect(clientAddress(request('6.6.6.6, 1.2.3.4, 10.0.0.9'), 2)).toBe('1.2.3.4');
    expect(clientAddress(request(), 1)).toBe('10.0.0.1');
  });
});
