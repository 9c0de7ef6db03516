import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayOptionsFromEnv, parseApiKeys } from './env-config.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-env-'));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('gateway settings from the environment', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty when nothing is set (open gateway, default exposure)', () => {
    expect(gatewayOptionsFromEnv({})).toEqual({});
  });

  it('reads exposure, limits, JWT, API keys, public paths, rate limits and CORS', () => {
    const options = gatewayOptionsFromEnv({
      GATEWAY_EXPOSE: '@http, shop.inventory.v1.InventoryService/GetStock',
      GATEWAY_MAX_HEADER_COUNT: '50',
      GATEWAY_JWT_SECRET_FILE: file('secret', 'a-test-secret-that-is-long-enough-for-hs256!\n'),
      GATEWAY_JWT_ISSUER: 'https://idp.test',
      GATEWAY_JWT_AUDIENCE: 'gw,gw2',
      GATEWAY_API_KEYS_FILE: file('keys', '# who key\nbatch key-0123456789abcdef\n\n'),
      GATEWAY_PUBLIC_PATHS: '/healthz,/readyz,/metrics',
      GATEWAY_RATE_LIMIT_RPS: '5',
      GATEWAY_RATE_LIMIT_BURST: '10',
      GATEWAY_CORS_ORIGINS: 'https://shop.example',
      GATEWAY_CORS_CREDENTIALS: 'true',
    });
    expect(options.expose).toEqual(['@http', 'shop.inventory.v1.InventoryService/GetStock']);
    expect(options.maxHeaderCount).toBe(50);
    expect(options.auth?.jwt).toMatchObject({
      secret: 'a-test-secret-that-is-long-enough-for-hs256!',
      issuer: ['https://idp.test'],
      audience: ['gw', 'gw2'],
    });
    expect(options.auth?.apiKeys?.keys).toEqual({ batch: 'key-0123456789abcdef' });
    expect(options.auth?.publicPaths).toEqual(['/healthz', '/readyz', '/metrics']);
    expect(options.rateLimit).toEqual({ ratePerSecond: 5, burst: 10 });
    expect(options.cors).toEqual({ origins: ['https://shop.example'], credentials: true });
  });

  it('stops on settings it cannot use, naming the variable and never the secret', () => {
    expect(() => gatewayOptionsFromEnv({ GATEWAY_RATE_LIMIT_RPS: 'fast' })).toThrow(/GATEWAY_RATE_LIMIT_RPS/);
    expect(() => gatewayOptionsFromEnv({ GATEWAY_JWT_SECRET_FILE: join(dir, 'missing') })).toThrow(
      /GATEWAY_JWT_SECRET_FILE: cannot read/,
    );
    expect(() => gatewayOptionsFromEnv({ GATEWAY_JWT_SECRET_FILE: file('s2', 'x'.repeat(40)) })).toThrow(
      /ISSUER and GATEWAY_JWT_AUDIENCE/,
    );
    expect(() => gatewayOptionsFromEnv({ GATEWAY_JWT_ISSUER: 'x' })).toThrow(/no key is/);
    expect(() => gatewayOptionsFromEnv({ GATEWAY_PUBLIC_PATHS: '/x' })).toThrow(/no authentication/);
    expect(() =>
      gatewayOptionsFromEnv({ GATEWAY_CORS_ORIGINS: 'https://a.example', GATEWAY_CORS_CREDENTIALS: 'yes' }),
    ).toThrow(/true or false/);
    let message = '';
    try {
      parseApiKeys('ok key-0123456789abcdef\nbad key-SECRET-VALUE extra\n', 'keys.txt');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('keys.txt line 2: expected "<subject> <key>"');
  });

  it('reads TLS for the gateway port (both files or neither) and the reflection switch', () => {
    const options = gatewayOptionsFromEnv({
      GATEWAY_TLS_CERT_FILE: file('cert.pem', 'CERT'),
      GATEWAY_TLS_KEY_FILE: file('key.pem', 'KEY'),
      GATEWAY_REFLECTION: 'false',
    });
    expect(options.tls).toEqual({ cert: 'CERT', key: 'KEY' });
    expect(options.reflection).toBe(false);
    expect(() => gatewayOptionsFromEnv({ GATEWAY_TLS_CERT_FILE: file('cert2.pem', 'CERT') })).toThrow(
      /both GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE/,
    );
  });

  it('keeps a subject named __proto__ an ordinary key', () => {
    const keys = parseApiKeys('__proto__ key-0123456789abcdef\n', 'keys');
    expect(Object.keys(keys)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(keys)).toBe(Object.prototype);
  });
});
