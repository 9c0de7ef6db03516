import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoRequest, EchoResponse } from '../gen/warren/test/v1/test.js';
import { call, startGatewayHarness, type GatewayHarness } from './support/gateway-harness.js';

// Both ways in, driven through real HTTP, to real services over the real broker.
describe('gateway routing', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness('gw-routing');
  });
  afterAll(async () => {
    await h.close();
  });

  describe('POST /rpc/<package.Service>/<Method>', () => {
    it('converts canonical JSON both ways: int64 strings or numbers, bytes, timestamps, repeated', async () => {
      const res = await call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Echo', {
        body: JSON.stringify({
          text: 'hé',
          number: 9007199254740991,
          payload: 'AQID',
          tags: ['a', 'b'],
          sentAt: '2024-05-06T07:08:09.120Z',
        }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.json).toMatchObject({
        text: 'hé',
        number: '9007199254740991',
        payload: 'AQID',
        tags: ['a', 'b'],
        sentAt: '2024-05-06T07:08:09.120Z',
        instance: 'gw-routing-services',
      });
      const asString = await call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Echo', { body: '{"number":"-42"}' });
      expect(asString.json.number).toBe('-42');
    });

    it('reads an int64 beyond 2^53 exactly, as a number or a string, and answers it as a string', async () => {
      for (const number of ['9007199254740993', '"9007199254740993"']) {
        const res = await call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Echo', {
          body: `{"text":"big","number":${number}}`,
        });
        expect(res.status).toBe(200);
        expect(res.json.number).toBe('9007199254740993');
      }
    });

    it.each(['4294967298e10', '1e400', '"0x2"', '" 2"', '"2 "', '1.5'])(
      'refuses "number": %s with 400 naming the field, publishing nothing',
      async (value) => {
        const before = h.published.length;
        const res = await call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Echo', {
          body: `{"text":"bad","number":${value}}`,
        });
        expect(res.status).toBe(400);
        expect(res.json.code).toBe(3);
        expect(res.json.message).toContain('number:');
        expect(h.published.length).toBe(before);
      },
    );

    it('passes protobuf bodies through as binary and answers in protobuf', async () => {
      const body = EchoRequest.encode(
        EchoRequest.fromPartial({ text: 'binary', number: 7, payload: new Uint8Array([0, 255]) }),
      ).finish();
      const res = await fetch(`${h.base}/rpc/warren.test.v1.TestService/Echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/x-protobuf');
      const reply = EchoResponse.decode(new Uint8Array(await res.arrayBuffer()));
      expect(reply).toMatchObject({ text: 'binary', number: 7n });
      expect([...reply.payload]).toEqual([0, 255]);
      expect(h.published.at(-1)!.contentType).toBe('application/x-protobuf');
    });

    it('takes an empty body without a content type as the empty message', async () => {
      const res = await fetch(`${h.base}/rpc/warren.test.v1.RestTestService/Ping`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
    });

    it('reaches methods that have no HTTP rule', async () => {
      const res = await call(h.base, 'POST', '/rpc/warren.test.v1.RestTestService/Ping', { body: '{"text":"pong"}' });
      expect(res.json).toEqual({ text: 'pong' });
    });
  });

  describe('google.api.http routes', () => {
    it('GET with a path parameter and a FieldMask query parameter', async () => {
      const res = await call(h.base, 'GET', '/v1/things/t-1?readMask=id,weightGrams');
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ thing: { id: 't-1', name: 'id,weight_grams' } });
    });

    it('GET with scalar, repeated, nested, enum, wrapper and 64-bit query parameters (proto or JSON names)', async () => {
      const query = [
        'page_size=25',
        'tags=red',
        'tags=blue%20green',
        'filter.kind=THING_KIND_BOOK',
        'filter.minWeightGrams=9007199254740991',
        'filter.created_after=2024-01-02T03:04:05Z',
        'filter.tags=x',
        'includeArchived=true',
        'kinds=1',
        'kinds=THING_KIND_TOOL',
        'only_new=false',
        'after_id=4294967296',
        'minScore=0.5',
      ].join('&');
      const res = await call(h.base, 'GET', `/v1/shelves/main/things?${query}`);
      expect(res.status).toBe(200);
      expect(res.json.received).toEqual({
        shelf: 'main',
        pageSize: 25,
        tags: ['red', 'blue green'],
        filter: {
          kind: 'THING_KIND_BOOK',
          minWeightGrams: '9007199254740991',
          createdAfter: '2024-01-02T03:04:05Z',
          tags: ['x'],
        },
        includeArchived: true,
        kinds: ['THING_KIND_BOOK', 'THING_KIND_TOOL'],
        onlyNew: false,
        afterId: '4294967296',
        minScore: 0.5,
      });
    });

    it('POST with body "*": the path parameter fills the request and wins over the body', async () => {
      const thing = {
        id: 't-2',
        kind: 'THING_KIND_TOOL',
        weightGrams: '1500',
        payload: '/w==',
        createdAt: '2024-02-29T00:00:00Z',
        ttl: '3.500s',
        priority: 2,
        labels: { a: 'b' },
      };
      const res = await call(h.base, 'POST', '/v1/shelves/garage/things', {
        body: JSON.stringify({ shelf: 'ignored', thing, requestId: 'r-1' }),
      });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ shelf: 'garage', thing });
    });

    it('PATCH with a body field: the body is that field, a nested path parameter sets thing.id, the query sets the mask', async () => {
      const res = await call(h.base, 'PATCH', '/v1/things/t-3?update_mask=name,tags', {
        body: JSON.stringify({ id: 'overridden', name: 'New', tags: ['x'] }),
      });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ thing: { id: 't-3', name: 'New', tags: ['x'] }, updateMask: 'name,tags' });
    });

    it('serves additional bindings and custom verbs', async () => {
      const update = await call(h.base, 'POST', '/v1/things/t-4:update', { body: '{"name":"Via POST"}' });
      expect(update.json).toEqual({ thing: { id: 't-4', name: 'Via POST' } });
      const cancel = await call(h.base, 'POST', '/v1/things/t-5:cancel', { body: '{"reason":"late"}' });
      expect(cancel.json).toEqual({ id: 't-5', reason: 'late', cancelled: true });
    });

    it('DELETE with response_body answers just that field', async () => {
      const res = await call(h.base, 'DELETE', '/v1/things/t-6');
      expect(res.status).toBe(200);
      expect(res.json).toBe('t-6');
    });

    it('matches wildcard templates with their literal segments', async () => {
      expect((await call(h.base, 'GET', '/v1/shelves/attic')).json).toEqual({ name: 'shelves/attic' });
      expect((await call(h.base, 'GET', '/v1/shelves/attic/extra')).status).toBe(404);
    });

    it('percent-decodes path parameters and refuses malformed escapes', async () => {
      expect((await call(h.base, 'GET', '/v1/things/a%20b%2Fc')).json).toEqual({
        thing: { id: 'a b/c', name: 'full' },
      });
      const bad = await call(h.base, 'GET', '/v1/things/%ZZ');
      expect(bad.status).toBe(400);
      expect(bad.json.message).toContain('percent-encoding');
    });

    it.each([
      ['/v1/shelves/s/things?pageSiz=1', 'pageSiz'],
      ['/v1/shelves/s/things?shelf=other', 'set by the path'],
      ['/v1/shelves/s/things?page_size=1&pageSize=2', 'more than once'],
      ['/v1/shelves/s/things?include_archived=yes', 'not true or false'],
      ['/v1/shelves/s/things?filter=x', 'is a message'],
      ['/v1/shelves/s/things?page_size=ten', 'page_size'],
      ['/v1/shelves/s/things?filter.kind=THING_KIND_NOPE', 'is not a value of warren.test.v1.ThingKind'],
      ['/v1/things/t?thing.id=x', 'has no field'],
    ])('refuses the query %s with 400 naming the problem (%s)', async (path, what) => {
      const before = h.published.length;
      const res = await call(h.base, 'GET', path);
      expect(res.status).toBe(400);
      expect(res.json.code).toBe(3);
      expect(res.json.message).toContain(what);
      expect(h.published.length).toBe(before);
    });

    it('refuses query parameters on a body "*" route and on the body field of a body-field route', async () => {
      expect((await call(h.base, 'POST', '/v1/shelves/s/things?thing.id=1', { body: '{}' })).json.message).toContain(
        'takes every field from the body',
      );
      expect((await call(h.base, 'PATCH', '/v1/things/t?thing.id=x', { body: '{}' })).json.message).toContain(
        'set by the path',
      );
      expect((await call(h.base, 'PATCH', '/v1/things/t?thing.tags=x', { body: '{}' })).json.message).toContain(
        'set by the body',
      );
    });
  });

  describe('unknown routes and methods', () => {
    it.each([
      ['GET', '/'],
      ['GET', '/v1/nothing/here'],
      ['POST', '/rpc/warren.test.v1.TestService/NoSuchMethod'],
      ['POST', '/rpc/warren.test.v1.NoSuchService/Echo'],
      ['POST', '/rpc/'],
    ])('%s %s is 404 and publishes nothing', async (method, path) => {
      const before = h.published.length;
      const res = await call(h.base, method, path, method === 'POST' ? { body: '{}' } : {});
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ code: 5, message: `no route for ${method} ${path}`, details: [] });
      expect(h.published.length).toBe(before);
    });

    it('a known path with the wrong method is 405 with Allow, and publishes nothing', async () => {
      const before = h.published.length;
      const rest = await call(h.base, 'PUT', '/v1/things/t-1', { body: '{}' });
      expect(rest.status).toBe(405);
      expect(rest.headers.get('allow')).toBe('GET, PATCH, DELETE');
      const rpc = await call(h.base, 'GET', '/rpc/warren.test.v1.TestService/Echo');
      expect(rpc.status).toBe(405);
      expect(rpc.headers.get('allow')).toBe('POST');
      expect(h.published.length).toBe(before);
    });
  });

  describe('headers and metadata', () => {
    it('forwards allow-listed headers as metadata, generates a request id and echoes it', async () => {
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const res = await call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Echo', {
        body: '{}',
        headers: { traceparent, tracestate: 'vendor=1', authorization: 'Bearer secret', 'x-custom': 'no' },
      });
      const requestId = res.headers.get('x-request-id')!;
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.json.metadata).toEqual({ traceparent, tracestate: 'vendor=1', 'request-id': requestId });
    });

    it('keeps a sane client request id and replaces an insane one', async () => {
      const kept = await call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Echo', {
        body: '{}',
        headers: { 'x-request-id': 'req-123' },
      });
      expect(kept.headers.get('x-request-id')).toBe('req-123');
      expect(kept.json.metadata['request-id']).toBe('req-123');
      const replaced = await call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Echo', {
        body: '{}',
        headers: { 'x-request-id': 'x'.repeat(200) },
      });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('echoes the request id on errors too', async () => {
      const res = await call(h.base, 'GET', '/v1/things/missing', { headers: { 'x-request-id': 'err-1' } });
      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toBe('err-1');
    });
  });
});
