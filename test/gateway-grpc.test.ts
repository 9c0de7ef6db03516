import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as connectHttp2 } from 'node:http2';
import { Code as ConnectCode, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufCurl, GATEWAY_GRPC_PROTOS, grpcJsClient, grpcUnary, protoRegistry } from './support/grpc-clients.js';
import { createTestCertificates, type TestCertificates } from './support/certs.js';
import { call, startGatewayHarness, type GatewayHarness } from './support/gateway-harness.js';

const ECHO = 'warren.test.v1.TestService';

// gRPC, gRPC-Web and Connect on the gateway's one port, driven by real
// third-party clients (grpc-js, Connect-ES, buf curl) against TestService
// running behind the broker.
describe('gateway: gRPC, gRPC-Web and Connect', () => {
  let harness: GatewayHarness;
  let address: string;
  let testService: DescService;

  beforeAll(async () => {
    [harness, testService] = await Promise.all([
      startGatewayHarness('gw-grpc', {
        gateway: { maxTimeoutMs: 1500, forwardHeaders: ['traceparent', 'tenant', 'blob-bin'] },
      }),
      protoRegistry().then((registry) => registry.getService(ECHO)!),
    ]);
    address = harness.base.replace('http://', '');
  }, 90_000);
  afterAll(async () => {
    await harness?.close();
  });

  describe('grpc-js (@grpc/grpc-js + @grpc/proto-loader)', () => {
    let client: grpc.Client & Record<string, any>;
    beforeAll(async () => {
      client = grpcJsClient('warren/test/v1/test.proto', ECHO, address);
      await new Promise<void>((resolve, reject) =>
        client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
      );
    });
    afterAll(() => client?.close());

    it('calls a unary method with metadata in (text and -bin) and a deadline the service sees', async () => {
      const metadata = new grpc.Metadata();
      metadata.set('tenant', 'acme');
      metadata.set('blob-bin', Buffer.from([0, 1, 2, 255]));
      metadata.set('x-request-id', 'grpc-req-1');
      metadata.set('not-forwarded', 'secret');
      const { reply, headers } = await grpcUnary(client, 'echo', { text: 'hi', number: '42' }, metadata, {
        deadline: Date.now() + 1000,
      });
      expect(reply.text).toBe('hi');
      expect(reply.number).toBe('42');
      const seen = reply.metadata as Record<string, string>;
      expect(seen['tenant']).toBe('acme');
      expect(Buffer.from(seen['blob-bin']!, 'base64')).toEqual(Buffer.from([0, 1, 2, 255]));
      expect(seen['request-id']).toBe('grpc-req-1');
      expect(seen['not-forwarded']).toBeUndefined();
      // grpc-timeout arrived: the handler's remaining time is under the client's 1 s (the gateway's cap is 1.5 s)
      expect(Number(reply.remainingMs)).toBeGreaterThan(100);
      expect(Number(reply.remainingMs)).toBeLessThanOrEqual(1000);
      expect(headers.get('x-request-id')).toEqual(['grpc-req-1']);
    });

    it('answers errors with the code, the percent-encoded message and the error metadata as trailers', async () => {
      const error = await grpcUnary(client, 'fail', { code: 5, message: 'no such thing: é 100%' }).catch(
        (caught: grpc.ServiceError) => caught,
      );
      expect(error).toBeInstanceOf(Error);
      const failure = error as grpc.ServiceError;
      expect(failure.code).toBe(grpc.status.NOT_FOUND);
      expect(failure.details).toBe('no such thing: é 100%');
      expect(failure.metadata.get('failed-by')).toEqual(['gw-grpc-services']);
    });

    it('caps the deadline at the gateway maximum and answers DEADLINE_EXCEEDED itself', async () => {
      const error = (await grpcUnary(client, 'sleep', { millis: 5000 }, new grpc.Metadata(), {
        deadline: Date.now() + 20_000,
      }).catch((caught: grpc.ServiceError) => caught)) as grpc.ServiceError;
      expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(error.details).toMatch(/deadline of 1500 ms exceeded/);
    });

    it('answers UNIMPLEMENTED for unknown methods and for streams', async () => {
      const unknown = await new Promise<grpc.ServiceError>((resolve) =>
        client.makeUnaryRequest(
          `/${ECHO}/Nope`,
          (value: Buffer) => value,
          (value: Buffer) => value,
          Buffer.alloc(0),
          (error) => resolve(error!),
        ),
      );
      expect(unknown.code).toBe(grpc.status.UNIMPLEMENTED);
      const health = grpcJsClient('grpc/health/v1/health.proto', 'grpc.health.v1.Health', address, [
        GATEWAY_GRPC_PROTOS,
      ]);
      const watched = await new Promise<grpc.ServiceError>((resolve) => {
        const stream = health['watch']({ service: '' });
        stream.on('error', resolve);
        stream.on('data', () => undefined);
      });
      health.close();
      expect(watched.code).toBe(grpc.status.UNIMPLEMENTED);
    });

    it('answers grpc.health.v1 Check from Warren health: the gateway, a live service, an unknown one', async () => {
      const health = grpcJsClient('grpc/health/v1/health.proto', 'grpc.health.v1.Health', address, [
        GATEWAY_GRPC_PROTOS,
      ]);
      try {
        expect((await grpcUnary(health, 'check', { service: '' })).reply.status).toBe('SERVING');
        expect((await grpcUnary(health, 'check', { service: ECHO })).reply.status).toBe('SERVING');
        const unknown = (await grpcUnary(health, 'check', { service: 'nope.v1.Nothing' }).catch(
          (caught: grpc.ServiceError) => caught,
        )) as grpc.ServiceError;
        expect(unknown.code).toBe(grpc.status.NOT_FOUND);
      } finally {
        health.close();
      }
    });
  });

  describe('Connect-ES (@connectrpc/connect-node) with runtime descriptors', () => {
    const transports = {
      'connect json': () => createConnectTransport({ baseUrl: harness.base, httpVersion: '1.1' }),
      'connect binary': () =>
        createConnectTransport({ baseUrl: harness.base, httpVersion: '2', useBinaryFormat: true }),
      'connect GET': () => createConnectTransport({ baseUrl: harness.base, httpVersion: '1.1', useHttpGet: true }),
      grpc: () => createGrpcTransport({ baseUrl: harness.base }),
      'grpc-web': () => createGrpcWebTransport({ baseUrl: harness.base, httpVersion: '1.1' }),
    };
    for (const [name, transport] of Object.entries(transports)) {
      it(`${name}: a call, its timeout and a NOT_FOUND with its metadata`, async () => {
        const client = createClient(testService, transport()) as any;
        const reply = await client.echo(
          { text: 'hello', number: 7n, tags: ['a'] },
          { timeoutMs: 1000, headers: { tenant: 'beta' } },
        );
        expect(reply.text).toBe('hello');
        expect(reply.number).toBe(7n);
        expect(reply.metadata['tenant']).toBe('beta');
        expect(Number(reply.remainingMs)).toBeLessThanOrEqual(1000);
        const error = await client.fail({ code: 5, message: 'missing' }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ConnectError);
        expect((error as ConnectError).code).toBe(ConnectCode.NotFound);
        expect((error as ConnectError).rawMessage).toBe('missing');
        expect((error as ConnectError).metadata.get('failed-by')).toBe('gw-grpc-services');
      });
    }

    it('refuses GET for a method with side effects', async () => {
      const client = createClient(testService, transports['connect GET']()) as any;
      // Sleep is IDEMPOTENT, not NO_SIDE_EFFECTS: Connect clients only GET NO_SIDE_EFFECTS methods, so ask by hand
      const message = encodeURIComponent(JSON.stringify({ millis: 1 }));
      const answer = await call(harness.base, 'GET', `/${ECHO}/Sleep?connect=v1&encoding=json&message=${message}`);
      expect(answer.status).toBe(501);
      expect(answer.json).toMatchObject({ code: 'unimplemented' });
      expect(client).toBeDefined();
    });
  });

  describe('buf curl with reflection only', () => {
    for (const protocol of ['connect', 'grpc', 'grpcweb'] as const) {
      it(`${protocol}: reflects the schema and calls Echo`, async () => {
        const result = await bufCurl(harness.base, protocol, `${ECHO}/Echo`, { text: 'buf', number: '5' });
        expect(result.ok, result.stderr).toBe(true);
        expect(result.json).toMatchObject({ text: 'buf', number: '5' });
      });
    }
  });

  describe('wire details', () => {
    it('answers a Connect stream with UNIMPLEMENTED in an end-of-stream message', async () => {
      const answer = await fetch(`${harness.base}/${ECHO}/Echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/connect+json' },
        body: new Uint8Array([0, 0, 0, 0, 2, 0x7b, 0x7d]),
      });
      expect(answer.status).toBe(200);
      const body = Buffer.from(await answer.arrayBuffer());
      expect(body[0]).toBe(0x02);
      expect(JSON.parse(body.subarray(5).toString())).toMatchObject({ error: { code: 'unimplemented' } });
    });

    it('speaks grpc-web-text (base64 both ways)', async () => {
      const registry = await protoRegistry();
      expect(registry.getMessage('warren.test.v1.EchoRequest')).toBeDefined();
      // EchoRequest{text: "t"}: field 1, length 1, "t"
      const frame = Buffer.from([0, 0, 0, 0, 3, 0x0a, 0x01, 0x74]);
      const answer = await fetch(`${harness.base}/${ECHO}/Echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/grpc-web-text', 'x-grpc-web': '1' },
        body: frame.toString('base64'),
      });
      expect(answer.headers.get('content-type')).toBe('application/grpc-web-text+proto');
      const bytes = Buffer.from(await answer.text(), 'base64');
      expect(bytes[0]).toBe(0);
      const length = bytes.readUInt32BE(1);
      const trailer = bytes.subarray(5 + length);
      expect(trailer[0]).toBe(0x80);
      expect(trailer.subarray(5).toString()).toContain('grpc-status:0');
    });

    it('keeps the JSON routes, operations and a bad HTTP/1.1 request working on the same port, over HTTP/1.1 and HTTP/2', async () => {
      const json = await call(harness.base, 'POST', `/rpc/${ECHO}/Echo`, { body: JSON.stringify({ text: 'json' }) });
      expect(json.status).toBe(200);
      expect(json.json.text).toBe('json');
      const session = connectHttp2(harness.base);
      try {
        const over2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const stream = session.request({
            ':method': 'POST',
            ':path': `/rpc/${ECHO}/Echo`,
            'content-type': 'application/json',
          });
          let status = 0;
          let body = '';
          stream.on('response', (headers) => (status = Number(headers[':status'])));
          stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
          stream.on('end', () => resolve({ status, body }));
          stream.on('error', reject);
          stream.end(JSON.stringify({ text: 'h2' }));
        });
        expect(over2.status).toBe(200);
        expect(JSON.parse(over2.body).text).toBe('h2');
      } finally {
        session.close();
      }
      expect((await call(harness.base, 'GET', '/healthz')).status).toBe(200);
      const { createConnection } = await import('node:net');
      const raw = await new Promise<string>((resolve) => {
        const socket = createConnection(Number(address.split(':')[1]), '127.0.0.1', () =>
          socket.write('BREW / HTTP/1.1\r\nHost: x\r\n\r\n'),
        );
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    });
  });
});

// The front door's refusals (auth, exposure) reach gRPC and Connect clients in their own shape.
describe('gateway: gRPC-family refusals', () => {
  let harness: GatewayHarness;
  beforeAll(async () => {
    harness = await startGatewayHarness('gw-grpc-auth', {
      services: false,
      gateway: { expose: [`${ECHO}/Echo`], auth: { apiKeys: { keys: { ops: 'k-0123456789abcdef' } } } },
    });
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('UNAUTHENTICATED without a key, UNIMPLEMENTED for a method that is not exposed; nothing published', async () => {
    const client = grpcJsClient('warren/test/v1/test.proto', ECHO, harness.base.replace('http://', ''));
    try {
      const denied = (await grpcUnary(client, 'echo', { text: 'x' }).catch(
        (caught: grpc.ServiceError) => caught,
      )) as grpc.ServiceError;
      expect(denied.code).toBe(grpc.status.UNAUTHENTICATED);
      const withKey = new grpc.Metadata();
      withKey.set('x-api-key', 'k-0123456789abcdef');
      const hidden = (await grpcUnary(client, 'fail', { code: 5 }, withKey).catch(
        (caught: grpc.ServiceError) => caught,
      )) as grpc.ServiceError;
      expect(hidden.code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      client.close();
    }
    const connect = await call(harness.base, 'POST', `/${ECHO}/Echo`, {
      body: '{}',
      headers: { 'connect-protocol-version': '1' },
    });
    expect(connect.status).toBe(401);
    expect(connect.json).toMatchObject({ code: 'unauthenticated' });
    expect(harness.published).toHaveLength(0);
  });
});

// TLS on the same port: ALPN sends gRPC clients to HTTP/2 and everyone else to HTTP/1.1.
describe('gateway: TLS', () => {
  let harness: GatewayHarness;
  let certs: TestCertificates;
  beforeAll(async () => {
    certs = await createTestCertificates();
    harness = await startGatewayHarness('gw-grpc-tls', {
      services: false,
      gateway: { tls: { cert: readFileSync(certs.serverCertFile), key: readFileSync(certs.serverKeyFile) } },
    });
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
    certs?.remove();
  });

  it('serves grpc-js over TLS (h2 by ALPN) and HTTPS/1.1 on the same port', async () => {
    const address = harness.base.replace('http://127.0.0.1', 'localhost');
    const health = grpcJsClient(
      'grpc/health/v1/health.proto',
      'grpc.health.v1.Health',
      address,
      [GATEWAY_GRPC_PROTOS],
      grpc.credentials.createSsl(readFileSync(certs.caFile)),
    );
    try {
      expect((await grpcUnary(health, 'check', { service: '' })).reply.status).toBe('SERVING');
    } finally {
      health.close();
    }
    const answer = await new Promise<{ status: number; version: string }>((resolve, reject) => {
      const request = httpsRequest(`https://${address}/healthz`, { ca: readFileSync(certs.caFile) }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, version: response.httpVersion }));
      });
      request.on('error', reject);
      request.end();
    });
    expect(answer).toEqual({ status: 200, version: '1.1' });
  });
});

// Shutdown over HTTP/2: GOAWAY lets the calls in flight finish, new calls are refused.
describe('gateway: drain with gRPC clients', () => {
  let harness: GatewayHarness;
  beforeAll(async () => {
    harness = await startGatewayHarness('gw-grpc-drain', { gateway: { drainMs: 10_000 } });
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  it('finishes a call in flight when close() starts, then refuses new ones', async () => {
    const client = grpcJsClient('warren/test/v1/test.proto', ECHO, harness.base.replace('http://', ''));
    try {
      await grpcUnary(client, 'echo', { text: 'warm' });
      const inFlight = grpcUnary(client, 'sleep', { millis: 1500 }, new grpc.Metadata(), {
        deadline: Date.now() + 10_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const closed = harness.gateway.close();
      const { status } = await inFlight;
      expect(status.code).toBe(grpc.status.OK);
      await closed;
      const after = (await grpcUnary(client, 'echo', { text: 'late' }, new grpc.Metadata(), {
        deadline: Date.now() + 3000,
      }).catch((caught: grpc.ServiceError) => caught)) as grpc.ServiceError;
      expect(after.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      client.close();
    }
  });
});
