import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { createAuthenticator, type AuthResult } from './auth.js';
import { httpHeadersOf, httpStatusOf } from './http-status.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256!';
const ISSUER = 'https://idp.test';
const AUDIENCE = 'warren-gateway';

function sign(
  claims: Record<string, unknown>,
  options: { secret?: string; alg?: string; exp?: string | number; iss?: string; aud?: string } = {},
): Promise<string> {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE);
  if (options.exp !== 0) jwt = jwt.setExpirationTime(options.exp ?? '5m');
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

function refusal(result: AuthResult): { status: number; challenge: string | undefined; message: string } {
  if (!result.error) throw new Error(`expected a refusal, got subject ${result.subject}`);
  return {
    status: httpStatusOf(result.error),
    challenge: httpHeadersOf(result.error)?.['www-authenticate'],
    message: result.error.rawMessage,
  };
}

describe('gateway authentication', () => {
  const auth = createAuthenticator({
    jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
    apiKeys: { keys: { 'batch-job': 'key-0123456789abcdef' } },
  });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('accepts a valid token and returns its subject', async () => {
    expect(await auth.authenticate(bearer(await sign({ sub: 'ada' })))).toEqual({ subject: 'ada' });
  });

  it('refuses a missing credential with a bare challenge, a bad one with invalid_token, both with the same message', async () => {
    const missing = refusal(await auth.authenticate({}));
    expect(missing).toEqual({
      status: 401,
      challenge: 'Bearer realm="warren"',
      message: 'missing or invalid credentials',
    });
    const cases = [
      await sign({ sub: 'ada' }, { secret: 'another-secret-that-is-long-enough-for-hs256' }),
      await sign({ sub: 'ada' }, { exp: Math.floor(Date.now() / 1000) - 60 }),
      await sign({ sub: 'ada' }, { iss: 'https://evil.test' }),
      await sign({ sub: 'ada' }, { aud: 'another-service' }),
      await sign({ sub: 'ada' }, { exp: 0 }),
      await sign({}),
      await sign({ sub: 'ada\u0000' }),
      'not.a.jwt',
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEiLCJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoid2FycmVuLWdhdGV3YXkifQ.',
    ];
    for (const token of cases) {
      const result = refusal(await auth.authenticate(bearer(token)));
      expect(result).toEqual({
        status: 401,
        challenge: 'Bearer realm="warren", error="invalid_token"',
        message: 'missing or invalid credentials',
      });
    }
    expect(refusal(await auth.authenticate({ authorization: 'Basic YWRhOnB3' })).status).toBe(401);
  });

  it('accepts API keys in x-api-key or as a bearer token, and refuses unknown ones', async () => {
    expect(await auth.authenticate({ 'x-api-key': 'key-0123456789abcdef' })).toEqual({ subject: 'batch-job' });
    expect(await auth.authenticate(bearer('key-0123456789abcdef'))).toEqual({ subject: 'batch-job' });
    expect(refusal(await auth.authenticate({ 'x-api-key': 'key-0123456789abcdeX' })).status).toBe(401);
  });

  it('matches public paths exactly, by prefix, or by method and path', () => {
    const open = createAuthenticator({
      apiKeys: { keys: { a: 'key-0123456789abcdef' } },
      publicPaths: ['/healthz', '/v1/catalog/*', 'GET /v1/stock'],
    });
    expect(open.isPublic('GET', '/healthz')).toBe(true);
    expect(open.isPublic('GET', '/healthz/x')).toBe(false);
    expect(open.isPublic('GET', '/v1/catalog/mugs')).toBe(true);
    expect(open.isPublic('GET', '/v1/stock')).toBe(true);
    expect(open.isPublic('POST', '/v1/stock')).toBe(false);
    expect(open.isPublic('GET', '/metrics')).toBe(false);
  });

  it('refuses unsafe configurations at start-up', () => {
    expect(() => createAuthenticator({})).toThrow(/jwt and\/or apiKeys/);
    expect(() => createAuthenticator({ jwt: { secret: 'short', issuer: ISSUER, audience: AUDIENCE } })).toThrow(
      /32 bytes/,
    );
    expect(() => createAuthenticator({ jwt: { secret: SECRET, issuer: '', audience: AUDIENCE } })).toThrow(/issuer/);
    expect(() => createAuthenticator({ jwt: { secret: SECRET, issuer: ISSUER, audience: [] } })).toThrow(/audience/);
    expect(() =>
      createAuthenticator({ jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'] } }),
    ).toThrow(/does not fit/);
    expect(() =>
      createAuthenticator({ jwt: { jwksUrl: 'http://idp.example/jwks', issuer: ISSUER, audience: AUDIENCE } }),
    ).toThrow(/https/);
    expect(() => createAuthenticator({ apiKeys: { keys: { a: 'short' } } })).toThrow(/16/);
    expect(() =>
      createAuthenticator({ apiKeys: { keys: { a: 'key-0123456789abcdef', b: 'key-0123456789abcdef' } } }),
    ).toThrow(/also another/);
    expect(() =>
      createAuthenticator({ apiKeys: { keys: { a: 'key-0123456789abcdef' } }, publicPaths: ['healthz'] }),
    ).toThrow(/public path/);
  });

  it('verifies RS256 tokens against a PEM public key, refusing HS256 tokens signed with that key as a secret', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const rsa = createAuthenticator({ jwt: { publicKey: pem, issuer: ISSUER, audience: AUDIENCE } });
    const good = await new SignJWT({ sub: 'grace' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1m')
      .sign(privateKey);
    expect(await rsa.authenticate(bearer(good))).toEqual({ subject: 'grace' });
    const confused = await sign({ sub: 'mallory' }, { secret: pem });
    expect(refusal(await rsa.authenticate(bearer(confused))).status).toBe(401);
  });

  describe('with a JWKS URL', () => {
    let server: Server;
    let url: string;
    let up = true;
    let signKey: CryptoKey;
    beforeAll(async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      signKey = privateKey;
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      server = createServer((_request, response) => {
        if (!up) {
          response.writeHead(500).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('verifies with the fetched key; a JWKS that cannot be fetched is 503, not 401', async () => {
      const token = await new SignJWT({ sub: 'lin' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('1m')
        .sign(signKey);
      const fresh = () => createAuthenticator({ jwt: { jwksUrl: url, issuer: ISSUER, audience: AUDIENCE } });
      expect(await fresh().authenticate(bearer(token))).toEqual({ subject: 'lin' });
      up = false;
      const down = await fresh().authenticate(bearer(token));
      expect(down.error?.code).toBe(Code.UNAVAILABLE);
      expect(httpStatusOf(down.error!)).toBe(503);
      up = true;
    });
  });
});
