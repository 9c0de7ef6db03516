import { connect } from 'node:net';
import SwaggerParser from '@apidevtools/swagger-parser';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, RpcError } from '../core/index.js';
import { loadProtos, type ProtoRegistry } from '../core/tooling.js';
import { createGateway, type GatewayOptions } from '../gateway/create-gateway.js';
import { SECURITY_HEADERS } from '../gateway/security-headers.js';
import {
  call,
  countingTransport,
  createRecordingLogger,
  startGatewayHarness,
  type GatewayHarness,
  type LogEntry,
} from './support/gateway-harness.js';

const SECRET = 'security-suite-secret-long-enough-for-hs256';
const ISSUER = 'https://idp.security.test';
const AUDIENCE = 'warren-gateway';
const API_KEY = 'apikey-security-suite-0001';
const ECHO = '/rpc/warren.test.v1.TestService/Echo';

function token(sub: string, overrides: { secret?: string; exp?: number } = {}): Promise<string> {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime(overrides.exp ?? Math.floor(Date.now() / 1000) + 300)
    .sign(new TextEncoder().encode(overrides.secret ?? SECRET));
}

/** Sends a GET with exactly these headers on a raw socket (fetch and node:http add their own) and reads the whole answer. */
function rawRequest(
  base: string,
  path: string,
  headers: [string, string][],
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}Connection: close\r\n\r\n`,
      );
    });
    let raw = '';
    socket.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const parsed: Record<string, string> = {};
      for (const line of lines)
        parsed[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine.split(' ')[1]), headers: parsed, body });
    });
  });
}

// Authentication, exposure, rate limits, CORS, security headers and header limits, through real HTTP to real services.
describe('gateway security', () => {
  let h: GatewayHarness;
  let protos: ProtoRegistry;
  const extra: { base: string; close: () => Promise<void>; logs: LogEntry[]; published: unknown[] }[] = [];

  /** Another gateway on the harness's broker connection, with these options. */
  async function gatewayWith(
    options: Partial<Omit<GatewayOptions, 'transport' | 'protos'>>,
  ): Promise<{ base: string; logs: LogEntry[]; published: unknown[] }> {
    const logger = createRecordingLogger();
    const { transport, published } = countingTransport(h.gatewayTransport);
    const gateway = createGateway({ transport, protos, logger, ...options });
    const { port } = await gateway.listen(0, '127.0.0.1');
    const entry = { base: `http://127.0.0.1:${port}`, close: () => gateway.close(), logs: logger.entries, published };
    extra.push(entry);
    return entry;
  }

  beforeAll(async () => {
    h = await startGatewayHarness('security-gw');
    protos = await loadProtos({ root: 'proto' });
  });
  afterAll(async () => {
    for (const gateway of extra) await gateway.close();
    await h.close();
  });

  describe('authentication', () => {
    let gw: { base: string; logs: LogEntry[]; published: unknown[] };
    beforeAll(async () => {
      gw = await gatewayWith({
        expose: ['@http', 'warren.test.v1.TestService/Echo'],
        auth: {
          jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
          apiKeys: { keys: { 'batch-job': API_KEY } },
        },
      });
    });

    it('401 with a challenge and no detail for missing, expired, forged and malformed credentials; nothing published', async () => {
      const before = gw.published.length;
      const cases: [Record<string, string>, string][] = [
        [{}, 'Bearer realm="warren"'],
        [
          { authorization: `Bearer ${await token('ada', { exp: Math.floor(Date.now() / 1000) - 120 })}` },
          'Bearer realm="warren", error="invalid_token"',
        ],
        [
          { authorization: `Bearer ${await token('ada', { secret: 'an-attacker-secret-that-is-long-enough!!' })}` },
          'Bearer realm="warren", error="invalid_token"',
        ],
        [{ authorization: 'Bearer garbage' }, 'Bearer realm="warren", error="invalid_token"'],
        [{ authorization: 'Basic YWRhOnNlY3JldA==' }, 'Bearer realm="warren", error="invalid_token"'],
        [{ 'x-api-key': 'apikey-security-suite-0002' }, 'Bearer realm="warren", error="invalid_token"'],
      ];
      for (const [headers, challenge] of cases) {
        const res = await call(gw.base, 'POST', ECHO, { body: '{"text":"hi"}', headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe(challenge);
        expect(res.json).toEqual({
          code: Code.UNAUTHENTICATED,
          message: 'missing or invalid credentials',
          details: [],
        });
      }
      expect(gw.published.length).toBe(before);
      // the log says why, for operators, without the credential
      const reasons = gw.logs
        .filter((entry) => entry.msg === 'authentication failed')
        .map((entry) => String(entry.fields['reason']));
      expect(reasons).toContain('ERR_JWT_EXPIRED');
      expect(reasons).toContain('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
      expect(JSON.stringify(gw.logs)).not.toContain('YWRhOnNlY3JldA');
    });

    it('passes the verified subject to the service as auth-subject; a client-sent auth-subject is not forwarded', async () => {
      const res = await call(gw.base, 'POST', ECHO, {
        body: '{"text":"hi"}',
        headers: { authorization: `Bearer ${await token('ada')}`, 'auth-subject': 'mallory' },
      });
      expect(res.status).toBe(200);
      expect(res.json.metadata['auth-subject']).toBe('ada');
      const keyed = await call(gw.base, 'POST', ECHO, { body: '{}', headers: { 'x-api-key': API_KEY } });
      expect(keyed.json.metadata['auth-subject']).toBe('batch-job');
      const bearerKey = await call(gw.base, 'GET', '/v1/things/t-1', {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(bearerKey.status).toBe(200);
    });

    it('refuses to forward a header under the subject key', async () => {
      await expect(
        gatewayWith({ auth: { apiKeys: { keys: { a: API_KEY } } }, forwardHeaders: ['traceparent', 'auth-subject'] }),
      ).rejects.toThrow(/verified subject/);
    });

    it('leaves /healthz and /readyz public; /metrics and /openapi.json need credentials unless listed', async () => {
      expect((await call(gw.base, 'GET', '/healthz')).status).toBe(200);
      expect((await call(gw.base, 'GET', '/readyz')).status).toBe(200);
      expect((await call(gw.base, 'GET', '/metrics')).status).toBe(401);
      expect((await call(gw.base, 'GET', '/openapi.json')).status).toBe(401);
      expect((await call(gw.base, 'GET', '/metrics', { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(
        200,
      );
      const openApi = (await call(gw.base, 'GET', '/openapi.json', { headers: { 'x-api-key': API_KEY } })).json;
      expect(openApi.components.securitySchemes).toEqual({
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      });
      expect(openApi.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
      await SwaggerParser.validate(structuredClone(openApi));
      const open = await gatewayWith({
        auth: { apiKeys: { keys: { a: API_KEY } }, publicPaths: ['/healthz', '/metrics', 'GET /v1/things/*'] },
      });
      expect((await call(open.base, 'GET', '/metrics')).status).toBe(200);
      expect((await call(open.base, 'GET', '/v1/things/t-2')).status).toBe(200);
      expect((await call(open.base, 'DELETE', '/v1/things/t-2')).status).toBe(401);
      expect((await call(open.base, 'GET', '/readyz')).status).toBe(401);
    });
  });

  describe('exposure', () => {
    it('by default serves only methods with HTTP rules; the rest answer 404 exactly like unknown paths and are not in OpenAPI', async () => {
      const gw = await gatewayWith({});
      expect((await call(gw.base, 'GET', '/v1/things/t-1')).status).toBe(200);
      const hidden = await call(gw.base, 'POST', ECHO, { body: '{}' });
      const unknown = await call(gw.base, 'POST', '/rpc/warren.test.v1.TestService/Nope', { body: '{}' });
      expect(hidden.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect(hidden.json.code).toBe(unknown.json.code);
      expect(hidden.json.message.replace(ECHO, 'X')).toBe(
        unknown.json.message.replace('/rpc/warren.test.v1.TestService/Nope', 'X'),
      );
      expect(gw.published).toHaveLength(1);
      const paths = Object.keys((await call(gw.base, 'GET', '/openapi.json')).json.paths as object);
      expect(paths).toContain('/v1/things/{id}');
      expect(paths).toContain('/rpc/warren.test.v1.RestTestService/GetThing');
      expect(paths.filter((path) => path.includes('TestService/') && !path.includes('RestTestService'))).toEqual([]);
      expect(
        paths.filter(
          (path) =>
            path.includes('HealthService') ||
            path.includes('PaymentService/Charge') ||
            path.includes('PaymentService/Refund'),
        ),
      ).toEqual([]);
    });

    it('never exposes methods whose contract restricts callers (payments Charge and Refund), even with *', async () => {
      const gw = await gatewayWith({ expose: ['*'] });
      expect((await call(gw.base, 'POST', '/rpc/shop.payments.v1.PaymentService/Charge', { body: '{}' })).status).toBe(
        404,
      );
      expect((await call(gw.base, 'POST', '/rpc/shop.payments.v1.PaymentService/Refund', { body: '{}' })).status).toBe(
        404,
      );
      expect((await call(gw.base, 'POST', ECHO, { body: '{}' })).status).toBe(200);
    });
  });

  describe('rate limits', () => {
    it('429 with Retry-After and RateLimit headers past the burst, per subject; operations endpoints are not limited', async () => {
      const gw = await gatewayWith({
        expose: ['*'],
        auth: { apiKeys: { keys: { a: API_KEY, b: 'apikey-security-suite-000b' } } },
        rateLimit: { ratePerSecond: 0.2, burst: 3 },
      });
      const as = (key: string) => call(gw.base, 'POST', ECHO, { body: '{}', headers: { 'x-api-key': key } });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await as(API_KEY)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await as(API_KEY);
      expect(limited.status).toBe(429);
      expect(limited.json.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.headers.get('ratelimit-limit')).toBe('3');
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      expect((await as('apikey-security-suite-000b')).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await call(gw.base, 'GET', '/healthz')).status).toBe(200);
    });

    it("failed authentications spend the address's tokens: guessing keys is throttled", async () => {
      const gw = await gatewayWith({
        auth: { apiKeys: { keys: { a: API_KEY } } },
        rateLimit: { ratePerSecond: 0.2, burst: 3 },
      });
      const statuses = [];
      for (let i = 0; i < 5; i++)
        statuses.push(
          (await call(gw.base, 'GET', '/v1/things/x', { headers: { 'x-api-key': `guess-${i}-0000000000000` } })).status,
        );
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    });
  });

  describe('CORS', () => {
    let gw: { base: string };
    beforeAll(async () => {
      gw = await gatewayWith({ cors: { origins: ['https://shop.example'], credentials: true } });
    });

    it('answers a preflight from an allowed origin with 204 and the allowed methods and headers', async () => {
      const res = await call(gw.base, 'OPTIONS', '/v1/things/t-1', {
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(res.headers.get('vary')).toContain('Origin');
    });

    it('adds the CORS headers to real answers from allowed origins, and refuses other origins with 403 and Vary: Origin', async () => {
      const ok = await call(gw.base, 'GET', '/v1/things/t-1', { headers: { origin: 'https://shop.example' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(ok.headers.get('access-control-expose-headers')).toContain('x-request-id');
      expect(ok.headers.get('vary')).toBe('Origin');
      const evil = await call(gw.base, 'GET', '/v1/things/t-1', { headers: { origin: 'https://evil.example' } });
      expect(evil.status).toBe(403);
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
      expect(evil.headers.get('vary')).toBe('Origin');
      const preflight = await call(gw.base, 'OPTIONS', '/v1/things/t-1', {
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' },
      });
      expect(preflight.status).toBe(403);
    });
  });

  describe('response hygiene', () => {
    it('sends the security headers on every kind of answer and never X-Powered-By', async () => {
      const guarded = await gatewayWith({
        expose: ['*'],
        auth: { apiKeys: { keys: { a: API_KEY } } },
        rateLimit: { ratePerSecond: 0.1, burst: 1 },
      });
      const open = await gatewayWith({ expose: ['*'], bodyLimitBytes: 100 });
      const key = { 'x-api-key': API_KEY };
      const answers = [
        await call(guarded.base, 'GET', '/healthz'),
        await call(guarded.base, 'GET', '/metrics', { headers: key }),
        await call(guarded.base, 'POST', ECHO, { body: '{}', headers: key }),
        await call(guarded.base, 'POST', ECHO, { body: '{}', headers: key }),
        await call(guarded.base, 'GET', '/openapi.json'),
        await call(open.base, 'GET', '/openapi.json'),
        await call(open.base, 'GET', '/no/such/path'),
        await call(open.base, 'DELETE', '/healthz'),
        await call(open.base, 'GET', '/v1/things/missing'),
        await call(open.base, 'POST', ECHO, { body: '{"text":' }),
        await call(open.base, 'POST', ECHO, { body: JSON.stringify({ text: 'x'.repeat(200) }) }),
        await call(open.base, 'POST', ECHO, { body: '{}', headers: { 'content-type': 'text/html' } }),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([
        200, 200, 200, 429, 401, 200, 404, 405, 404, 400, 413, 415,
      ]);
      for (const answer of answers) {
        for (const [name, value] of Object.entries(SECURITY_HEADERS))
          expect(answer.headers.get(name), name).toBe(value);
        expect(answer.headers.get('x-powered-by')).toBeNull();
        expect(answer.headers.get('server')).toBeNull();
      }
    });

    it('431 for too many headers (JSON) and for a head over the byte limit', async () => {
      const gw = await gatewayWith({ maxHeaderCount: 20, maxHeaderBytes: 4096 });
      const many = await rawRequest(
        gw.base,
        '/v1/things/t-1',
        Array.from({ length: 30 }, (_, i) => [`x-filler-${i}`, 'v'] as [string, string]),
      );
      expect(many.status).toBe(431);
      expect(JSON.parse(many.body)).toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
      const fine = await rawRequest(
        gw.base,
        '/v1/things/t-1',
        Array.from({ length: 10 }, (_, i) => [`x-filler-${i}`, 'v'] as [string, string]),
      );
      expect(fine.status).toBe(200);
      const big = await rawRequest(gw.base, '/v1/things/t-1', [['x-big', 'b'.repeat(5000)]]);
      expect(big.status).toBe(431);
      expect(big.headers['x-content-type-options']).toBe('nosniff');
    });

    it('never sends internal error text: a failing handler and a failing interceptor both answer a bare message', async () => {
      const gw = await gatewayWith({
        expose: ['*'],
        interceptors: [
          (next) => async (call) => {
            if ((call.request as { text?: string }).text === 'boom')
              throw new Error('interceptor secret: db password hunter2');
            if ((call.request as { text?: string }).text === 'ok-error') throw new RpcError(Code.OK, 'claims OK');
            return next(call);
          },
        ],
      });
      const handler = await call(gw.base, 'POST', '/rpc/warren.test.v1.TestService/Fail', {
        body: JSON.stringify({ plainError: true, message: 'hunter2' }),
      });
      expect(handler.status).toBe(500);
      expect(handler.text).not.toContain('hunter2');
      const interceptor = await call(gw.base, 'POST', ECHO, { body: '{"text":"boom"}' });
      expect(interceptor.status).toBe(500);
      expect(interceptor.text).not.toContain('hunter2');
      expect(interceptor.text).not.toContain('at ');
      expect(interceptor.json).toEqual({ code: Code.UNKNOWN, message: 'client interceptor failed', details: [] });
      // an error claiming OK is still an error (found by the fuzz suite's sibling on the AMQP side)
      const okError = await call(gw.base, 'POST', ECHO, { body: '{"text":"ok-error"}' });
      expect(okError.status).toBe(500);
      expect(okError.json).toEqual({ code: Code.UNKNOWN, message: 'claims OK', details: [] });
    });

    // last: it drops the harness's broker connection (every gateway of this suite shares it; it reconnects)
    it('does not tell HTTP clients where the broker is when the connection drops under a call', async () => {
      // Increment is not idempotent: the gateway may not retry it after the reconnection, so the answer is always 503;
      // it runs 8 s because rabbitmqctl (finding and closing the connection) takes seconds on a loaded machine
      const pending = call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Increment', {
        body: `{"counter":"hygiene","delayMs":8000}`,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await h.killGatewayConnection();
      const res = await pending;
      expect(res.status).toBe(503);
      expect(res.json.message).toContain('connection to the broker');
      expect(res.text).not.toContain('amqp://');
      expect(res.text).not.toContain(h.vhost.name);
    });
  });
});
