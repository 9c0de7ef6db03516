import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { loadProtos } from '../core/tooling.js';
import { call, startGatewayHarness, type GatewayHarness } from './support/gateway-harness.js';

const ECHO = '/rpc/warren.test.v1.TestService/Echo';
const FAIL = '/rpc/warren.test.v1.TestService/Fail';
const SLEEP = '/rpc/warren.test.v1.TestService/Sleep';

// Error mapping, deadlines, limits and hygiene, through real HTTP to real services.
describe('gateway errors and limits', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness('gw-errors', {
      gateway: {
        bodyLimitBytes: 4096,
        maxTimeoutMs: 3000,
        defaultTimeoutMs: 2000,
        headersTimeoutMs: 400,
        requestTimeoutMs: 800,
        breaker: { volumeThreshold: 1000 },
      },
    });
  });
  afterAll(async () => {
    await h.close();
  });

  describe('RPC status → HTTP status', () => {
    const table: [Code, number][] = [
      [Code.CANCELLED, 499],
      [Code.UNKNOWN, 500],
      [Code.INVALID_ARGUMENT, 400],
      [Code.DEADLINE_EXCEEDED, 504],
      [Code.NOT_FOUND, 404],
      [Code.ALREADY_EXISTS, 409],
      [Code.PERMISSION_DENIED, 403],
      [Code.RESOURCE_EXHAUSTED, 429],
      [Code.FAILED_PRECONDITION, 400],
      [Code.ABORTED, 409],
      [Code.OUT_OF_RANGE, 400],
      [Code.UNIMPLEMENTED, 501],
      [Code.INTERNAL, 500],
      [Code.UNAVAILABLE, 503],
      [Code.DATA_LOSS, 500],
      [Code.UNAUTHENTICATED, 401],
    ];
    it.each(table)('code %i answers HTTP %i with {code, message, details}', async (code, status) => {
      const res = await call(h.base, 'POST', FAIL, { body: JSON.stringify({ code, message: `failed with ${code}` }) });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.json).toEqual({ code, message: `failed with ${code}`, details: [] });
    });

    it("gives every 503 a service answered a Retry-After, as the breaker's", async () => {
      const res = await call(h.base, 'POST', FAIL, {
        body: JSON.stringify({ code: Code.UNAVAILABLE, message: 'payments is down' }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
    });

    it('maps REST errors the same way (NOT_FOUND, ALREADY_EXISTS)', async () => {
      expect((await call(h.base, 'GET', '/v1/things/missing')).status).toBe(404);
      const exists = await call(h.base, 'POST', '/v1/shelves/s/things', { body: '{"thing":{"id":"exists"}}' });
      expect(exists.status).toBe(409);
      expect(exists.json.code).toBe(Code.ALREADY_EXISTS);
    });

    it("never leaks a handler's internal error text", async () => {
      const res = await call(h.base, 'POST', FAIL, {
        body: JSON.stringify({ plainError: true, message: 'db password' }),
      });
      expect(res.status).toBe(500);
      expect(res.json.code).toBe(Code.INTERNAL);
      expect(res.text).not.toContain('db password');
    });
  });

  describe('deadlines', () => {
    it('x-warren-timeout-ms turns a slow call into 504 on time', async () => {
      const res = await call(h.base, 'POST', SLEEP, {
        body: '{"millis":2500}',
        headers: { 'x-warren-timeout-ms': '300' },
      });
      expect(res.status).toBe(504);
      expect(res.json.code).toBe(Code.DEADLINE_EXCEEDED);
      expect(res.ms).toBeGreaterThanOrEqual(290);
      expect(res.ms).toBeLessThan(1500);
      expect(Number(h.published.at(-1)!.deadline)).toBeGreaterThan(0);
    });

    it('applies the default timeout when the header is absent and caps the header at the maximum', async () => {
      const started = Date.now();
      await call(h.base, 'POST', ECHO, { body: '{}' });
      expect(h.published.at(-1)!.deadline - started).toBeGreaterThan(1500);
      expect(h.published.at(-1)!.deadline - started).toBeLessThanOrEqual(2100);
      const capped = Date.now();
      await call(h.base, 'POST', ECHO, { body: '{}', headers: { 'x-warren-timeout-ms': '999999' } });
      expect(h.published.at(-1)!.deadline - capped).toBeLessThanOrEqual(3100);
      expect(h.published.at(-1)!.deadline - capped).toBeGreaterThan(2500);
    });

    it.each(['0', '-5', 'soon', '1.5'])('refuses x-warren-timeout-ms: %s with 400', async (value) => {
      const res = await call(h.base, 'POST', ECHO, { body: '{}', headers: { 'x-warren-timeout-ms': value } });
      expect(res.status).toBe(400);
      expect(res.json.message).toContain('x-warren-timeout-ms');
    });
  });

  describe('bodies', () => {
    it('413 for a declared Content-Length over the limit, before reading it; nothing published', async () => {
      const before = h.published.length;
      const res = await call(h.base, 'POST', ECHO, { body: JSON.stringify({ text: 'x'.repeat(5000) }) });
      expect(res.status).toBe(413);
      expect(res.json.message).toContain('4096 bytes');
      expect(h.published.length).toBe(before);
    });

    it('413 for a chunked body that grows over the limit', async () => {
      const before = h.published.length;
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          `${h.base}${ECHO}`,
          { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.write('{"text":"');
        let sent = 0;
        const more = (): void => {
          if (sent > 8000 || req.destroyed) return void req.end('"}');
          sent += 1000;
          req.write('y'.repeat(1000), () => setImmediate(more));
        };
        more();
      });
      expect(status).toBe(413);
      expect(h.published.length).toBe(before);
    });

    it.each([
      ['{"text": ', 'not valid JSON'],
      ['[1, 2]', 'EchoRequest: must be a JSON object, got an array'],
      ['"text"', 'EchoRequest: must be a JSON object, got string'],
      ['{"number": "twelve"}', 'number: "twelve" is not a valid int64'],
      ['{"number": 1.5}', 'number: 1.5 is not a valid int64'],
      ['{"text": 5}', 'EchoRequest.text'],
      ['{"tags": "a"}', 'EchoRequest.tags'],
      ['{"payload": "***"}', 'EchoRequest.payload'],
      ['{"sentAt": "today"}', 'Timestamp'],
      ['{"colour": "red"}', 'unknown field'],
    ])('400 naming the problem for the body %s', async (body, what) => {
      const before = h.published.length;
      const res = await call(h.base, 'POST', ECHO, { body });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe(Code.INVALID_ARGUMENT);
      expect(res.json.message).toContain(what);
      expect(h.published.length).toBe(before);
    });

    it('400 for an unknown enum name and for a non-object body on a body "*" route', async () => {
      const badEnum = await call(h.base, 'POST', '/v1/shelves/s/things', {
        body: '{"thing":{"kind":"THING_KIND_SOFA"}}',
      });
      expect(badEnum.status).toBe(400);
      expect(badEnum.json.message).toContain(
        'thing.kind: "THING_KIND_SOFA" is not a value of warren.test.v1.ThingKind',
      );
      const array = await call(h.base, 'POST', '/v1/shelves/s/things', { body: '[]' });
      expect(array.status).toBe(400);
      expect(array.json.message).toContain('JSON object');
    });

    it('400 for invalid UTF-8 and for malformed protobuf', async () => {
      const utf8 = await call(h.base, 'POST', ECHO, {
        body: new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
        headers: { 'content-type': 'application/json' },
      });
      expect(utf8.status).toBe(400);
      expect(utf8.json.message).toContain('UTF-8');
      const proto = await call(h.base, 'POST', ECHO, {
        body: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        headers: { 'content-type': 'application/x-protobuf' },
      });
      expect(proto.status).toBe(400);
      expect(proto.json.message).toContain('protobuf');
    });

    it.each([
      [ECHO, 'text/plain'],
      [ECHO, 'application/json; charset=latin1'],
      [ECHO, 'application/x-www-form-urlencoded'],
      ['/v1/shelves/s/things', 'application/x-protobuf'],
      ['/v1/shelves/s/things', 'text/plain'],
    ])('415 for POST %s with Content-Type %s', async (path, contentType) => {
      const before = h.published.length;
      const res = await call(h.base, 'POST', path, { body: '{}', headers: { 'content-type': contentType } });
      expect(res.status).toBe(415);
      expect(res.json.message).toContain('application/json');
      expect(h.published.length).toBe(before);
    });

    it('415 for a body without a Content-Type', async () => {
      const res = await fetch(`${h.base}${ECHO}`, { method: 'POST', body: new Uint8Array([0x7b, 0x7d]) });
      expect(res.status).toBe(415);
    });
  });

  describe('prototype pollution', () => {
    const polluted = (): unknown => (Object.prototype as Record<string, unknown>)['polluted'];

    it.each([
      [ECHO, '{"__proto__": {"polluted": "yes"}}'],
      [ECHO, '{"constructor": {"prototype": {"polluted": "yes"}}}'],
      ['/v1/shelves/s/things', '{"thing": {"__proto__": {"polluted": "yes"}}}'],
      ['/v1/shelves/s/things', '{"__proto__": {"thing": {"id": "x"}}}'],
    ])('POST %s %s is refused and pollutes nothing', async (path, body) => {
      const res = await call(h.base, 'POST', path, { body });
      expect(res.status).toBe(400);
      expect(res.json.message).toContain('unknown field');
      expect(polluted()).toBeUndefined();
    });

    it.each([
      '/v1/shelves/s/things?__proto__.polluted=yes',
      '/v1/shelves/s/things?constructor.prototype.polluted=yes',
      '/v1/shelves/s/things?filter.__proto__.polluted=yes',
      '/v1/shelves/s/things?__proto__=yes',
    ])('GET %s is refused and pollutes nothing', async (path) => {
      const res = await call(h.base, 'GET', path);
      expect(res.status).toBe(400);
      expect(polluted()).toBeUndefined();
    });

    it('carries __proto__ as an ordinary map key', async () => {
      const res = await call(h.base, 'POST', '/v1/shelves/s/things', {
        body: '{"thing": {"labels": {"__proto__": "a", "constructor": "b"}}}',
      });
      expect(res.status).toBe(200);
      // What the gateway published holds both keys (the ts-proto service drops `__proto__` on its side).
      const type = (await loadProtos({ root: 'proto' })).findMessage('warren.test.v1.CreateThingRequest')!;
      const sent = type.toJSON(type.decode(h.published.at(-1)!.body)) as { thing: { labels: Record<string, string> } };
      expect(Object.entries(sent.thing.labels)).toEqual([
        ['__proto__', 'a'],
        ['constructor', 'b'],
      ]);
      expect(polluted()).toBeUndefined();
      expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    });
  });

  describe('slow clients', () => {
    const rawExchange = (chunks: string[], waitMs: number): Promise<{ text: string; closedMs: number }> =>
      new Promise((resolve, reject) => {
        const { port } = new URL(h.base);
        const started = performance.now();
        const socket = connect(Number(port), '127.0.0.1', () => {
          for (const chunk of chunks) socket.write(chunk);
        });
        let text = '';
        socket.on('data', (data) => (text += data.toString()));
        socket.on('error', reject);
        socket.on('close', () => resolve({ text, closedMs: performance.now() - started }));
        setTimeout(() => socket.destroy(new Error(`connection still open after ${waitMs} ms`)), waitMs);
      });

    it('408 and a closed connection when the headers never finish', async () => {
      const { text, closedMs } = await rawExchange([`POST ${ECHO} HTTP/1.1\r\nHost: x\r\n`], 5000);
      expect(text).toMatch(/^HTTP\/1\.1 408/);
      expect(closedMs).toBeGreaterThanOrEqual(380);
      expect(closedMs).toBeLessThan(3000);
    });

    it('408 and a closed connection when the body never finishes; nothing published', async () => {
      const before = h.published.length;
      const { text, closedMs } = await rawExchange(
        [`POST ${ECHO} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"te`],
        5000,
      );
      expect(text).toMatch(/^HTTP\/1\.1 408/);
      expect(closedMs).toBeLessThan(3000);
      expect(h.published.length).toBe(before);
    });
  });
});
