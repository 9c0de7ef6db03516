import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createCors } from './cors.js';

const request = (method: string, headers: Record<string, string>) =>
  ({ method, headers }) as unknown as IncomingMessage;

describe('CORS', () => {
  const cors = createCors({ origins: ['https://shop.example'], credentials: true });

  it('lets requests without Origin through untouched', () => {
    expect(cors.check(request('GET', {})).kind).toBe('none');
  });

  it('echoes an allowed origin with Vary: Origin, never *', () => {
    const verdict = cors.check(request('GET', { origin: 'https://shop.example' }));
    expect(verdict).toMatchObject({
      kind: 'allowed',
      headers: {
        'access-control-allow-origin': 'https://shop.example',
        vary: 'Origin',
        'access-control-allow-credentials': 'true',
      },
    });
  });

  it('refuses other origins with 403, including look-alikes', () => {
    for (const origin of ['https://evil.example', 'https://shop.example.evil.example', 'http://shop.example', 'null']) {
      const verdict = cors.check(request('POST', { origin }));
      expect(verdict.kind).toBe('refused');
    }
  });

  it('answers preflights with methods, allowed headers and max-age; refuses unlisted request headers', () => {
    const ok = cors.check(
      request('OPTIONS', {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'Content-Type, Authorization',
      }),
    );
    expect(ok.kind).toBe('preflight');
    if (ok.kind === 'preflight') {
      expect(ok.headers['access-control-allow-methods']).toContain('POST');
      expect(ok.headers['access-control-allow-headers']).toContain('authorization');
      expect(ok.headers['access-control-max-age']).toBe('600');
      expect(ok.headers['vary']).toContain('Origin');
    }
    expect(
      cors.check(
        request('OPTIONS', {
          origin: 'https://shop.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-secret',
        }),
      ).kind,
    ).toBe('refused');
  });

  it('refuses * with credentials and malformed origins at start-up', () => {
    expect(() => createCors({ origins: ['*'], credentials: true })).toThrow(/credentials/);
    expect(() => createCors({ origins: ['https://shop.example/'] })).toThrow(/scheme/);
    expect(() => createCors({ origins: ['shop.example'] })).toThrow(/scheme/);
    const any = createCors({ origins: ['*'] });
    expect(any.check(request('GET', { origin: 'https://a.example' }))).toMatchObject({
      kind: 'allowed',
      headers: { 'access-control-allow-origin': '*' },
    });
  });
});
