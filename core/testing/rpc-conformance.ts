import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Code,
  createClient,
  createServer,
  type Interceptor,
  RpcError,
  type Server,
  type ServerOptions,
  type Transport,
} from '../index.js';
import { HEALTH_CHECK_PATH } from '../protocol/index.js';
import { CheckResponse, HealthServiceDefinition } from '../../gen/warren/health/v1/health.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { testService, type TestServiceLedger } from './test-service.js';

/** How a conformance run gets transports: one per "process" (memory returns the shared one). */
export interface ConformanceEnvironment {
  connect(): Promise<Transport>;
  dispose(): Promise<void>;
}

async function rejectionOf(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw new Error(`expected an RpcError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail');
}

/**
 * The RPC semantics every transport must share, run against the memory
 * transport and against the real broker.
 */
export function describeRpcConformance(kind: string, makeEnvironment: () => Promise<ConformanceEnvironment>): void {
  describe(`RPC conformance (${kind})`, () => {
    let env: ConformanceEnvironment;
    let clientTransport: Transport;
    const servers: Server[] = [];
    const ledgers = new Map<string, TestServiceLedger>();

    async function startServer(instance: string, options: Partial<ServerOptions> = {}): Promise<Server> {
      const transport = await env.connect();
      const { implementation, ledger } = testService(instance, transport);
      ledgers.set(instance, ledger);
      const server = createServer({ transport, instance, ...options }).add(TestServiceDefinition, implementation);
      await server.start();
      servers.push(server);
      return server;
    }

    beforeAll(async () => {
      env = await makeEnvironment();
      clientTransport = await env.connect();
      await startServer('main');
    });

    afterAll(async () => {
      for (const server of servers) await server.close();
      await env.dispose();
    });

    const client = () => createClient(TestServiceDefinition, clientTransport);

    it('echoes every scalar kind in protobuf and in JSON', async () => {
      const request = {
        text: 'héllo',
        number: 1234567890123n,
        payload: new Uint8Array([0, 1, 255]),
        tags: ['a', 'b'],
        sentAt: new Date('2026-01-02T03:04:05.678Z'),
      };
      for (const contentType of ['application/x-protobuf', 'application/json'] as const) {
        const reply = await client().echo(request, { contentType });
        expect({ ...reply, payload: [...reply.payload] }).toMatchObject({ ...request, payload: [0, 1, 255] });
        expect(reply.caller).not.toBe('');
      }
    });

    it('carries metadata both ways and refuses reserved keys before sending', async () => {
      const reply = await client().echo(
        { text: 'm' },
        { metadata: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'tenant-id': 't1' } },
      );
      expect(reply.metadata).toEqual({
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'tenant-id': 't1',
      });
      const before = ledgers.get('main')!.started.length;
      const error = await rejectionOf(client().echo({}, { metadata: { 'warren-deadline': '1' } }));
      expect(error.code).toBe(Code.INVALID_ARGUMENT);
      expect(ledgers.get('main')!.started.length).toBe(before);
    });

    it('sends a thrown RpcError exactly, with its trailing metadata, and the caller stack', async () => {
      const error = await rejectionOf(client().fail({ code: Code.NOT_FOUND, message: 'order 7 not found' }));
      expect(error.code).toBe(Code.NOT_FOUND);
      expect(error.rawMessage).toBe('order 7 not found');
      expect(error.metadata['failed-by']).toBe('main');
      expect(error.stack).toContain('rpc-conformance.ts');
      const json = await rejectionOf(
        client().fail({ code: Code.ALREADY_EXISTS, message: 'dup' }, { contentType: 'application/json' }),
      );
      expect([json.code, json.rawMessage]).toEqual([Code.ALREADY_EXISTS, 'dup']);
    });

    it('turns any other exception into INTERNAL without leaking it', async () => {
      const error = await rejectionOf(client().fail({ plainError: true, message: 'db password is hunter2' }));
      expect(error.code).toBe(Code.INTERNAL);
      expect(error.message).not.toContain('hunter2');
    });

    it('fails with DEADLINE_EXCEEDED at the deadline, not later, and the handler sees the time left', async () => {
      const started = Date.now();
      const error = await rejectionOf(client().sleep({ millis: 2000 }, { timeoutMs: 200 }));
      const elapsed = Date.now() - started;
      expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
      expect(elapsed).toBeGreaterThanOrEqual(195);
      expect(elapsed).toBeLessThan(600);
      const reply = await client().echo({}, { timeoutMs: 5000 });
      expect(reply.remainingMs).toBeGreaterThan(4000);
      expect(reply.remainingMs).toBeLessThanOrEqual(5000);
    });

    it('propagates deadline and metadata across hops (A→B→C)', async () => {
      const reply = await client().relay(
        { text: 'hop' },
        { timeoutMs: 3000, metadata: { traceparent: '00-aaaabbbbccccddddeeeeffff00001111-0123456789abcdef-01' } },
      );
      expect(reply.echoed?.text).toBe('hop');
      expect(reply.echoed?.metadata['traceparent']).toBe('00-aaaabbbbccccddddeeeeffff00001111-0123456789abcdef-01');
      expect(reply.echoed!.remainingMs).toBeLessThanOrEqual(3000);
      expect(reply.echoed!.remainingMs).toBeGreaterThan(2000);
    });

    it('rejects with CANCELLED at once when the signal aborts, and publishes nothing for a pre-aborted call', async () => {
      const controller = new AbortController();
      const pending = client().sleep({ millis: 3000 }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();
      const error = await rejectionOf(pending);
      expect(error.code).toBe(Code.CANCELLED);
      expect(Date.now() - started).toBeLessThan(500);
      const before = ledgers.get('main')!.started.length;
      expect((await rejectionOf(client().echo({}, { signal: AbortSignal.abort() }))).code).toBe(Code.CANCELLED);
      await client().echo({});
      expect(ledgers.get('main')!.started.length).toBe(before + 1);
    });

    it('fails fast with UNAVAILABLE for a service nobody serves', async () => {
      const nobody = createClient(
        { ...TestServiceDefinition, fullName: 'warren.test.v1.NobodyService' },
        clientTransport,
      );
      const started = Date.now();
      const error = await rejectionOf(nobody.echo({}, { timeoutMs: 5000 }));
      expect(error.code).toBe(Code.UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('answers UNIMPLEMENTED for a method the service does not have', async () => {
      const extended = {
        ...TestServiceDefinition,
        methods: { ...TestServiceDefinition.methods, nope: { ...TestServiceDefinition.methods.echo, name: 'Nope' } },
      };
      const error = await rejectionOf(createClient(extended, clientTransport).nope({}));
      expect(error.code).toBe(Code.UNIMPLEMENTED);
      expect(error.rawMessage).toContain('warren.test.v1.TestService/Nope');
    });

    it('answers the built-in health check on the service queue', async () => {
      expect(HEALTH_CHECK_PATH).toBe(`${HealthServiceDefinition.fullName}/Check`);
      // the health method travels with type = warren.health.v1.HealthService/Check on the service's routing key
      const reply = await healthCheck(clientTransport, TestServiceDefinition.fullName);
      expect(reply.status).toBe(1);
      expect(reply.methods).toContain('warren.test.v1.TestService/Echo');
      expect(reply.instance).not.toBe('');
    });

    it('answers 1,000 concurrent calls with the right payloads', async () => {
      const c = client();
      const replies = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => c.echo({ text: `call-${i}`, number: i })),
      );
      replies.forEach((reply, i) => {
        expect(reply.text).toBe(`call-${i}`);
        expect(reply.number).toBe(BigInt(i));
      });
    });

    it('bounds a hung handler by the deadline and frees its slot', async () => {
      const transport = await env.connect();
      const { implementation } = testService('hung');
      const server = createServer({ transport, instance: 'hung', prefetch: 1 }).add(
        { ...TestServiceDefinition, fullName: 'warren.test.v1.HungService' },
        implementation,
      );
      await server.start();
      servers.push(server);
      const hung = createClient({ ...TestServiceDefinition, fullName: 'warren.test.v1.HungService' }, clientTransport);
      const error = await rejectionOf(hung.sleep({ millis: 1500, ignoreAbort: true }, { timeoutMs: 200 }));
      expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
      const started = Date.now();
      expect((await hung.echo({ text: 'next' }, { timeoutMs: 1000 })).text).toBe('next');
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('never runs a request whose deadline passed while it was queued', async () => {
      const transport = await env.connect();
      const { implementation, ledger } = testService('slow');
      const definition = { ...TestServiceDefinition, fullName: 'warren.test.v1.SlowService' };
      const server = createServer({ transport, instance: 'slow', prefetch: 1 }).add(definition, implementation);
      await server.start();
      servers.push(server);
      const slow = createClient(definition, clientTransport);
      const busy = slow.sleep({ millis: 400 });
      const expired = await rejectionOf(slow.echo({ text: 'too late' }, { timeoutMs: 100 }));
      expect(expired.code).toBe(Code.DEADLINE_EXCEEDED);
      await busy;
      await slow.echo({ text: 'after' });
      expect(ledger.started.map((s) => s.method)).toEqual(['sleep', 'echo']);
      expect(ledger.started.every((s) => s.remainingMs > 0)).toBe(true);
    });

    it('shares load between instances of a service', async () => {
      await startServer('second');
      const c = client();
      const replies = await Promise.all(Array.from({ length: 200 }, () => c.sleep({ millis: 5 })));
      const instances = new Set(replies.map((r) => r.instance));
      expect(instances).toEqual(new Set(['main', 'second']));
    });

    it('runs client and server interceptors as an onion, and lets a server interceptor refuse a call', async () => {
      const order: string[] = [];
      const tag =
        (name: string): Interceptor =>
        (next) =>
        async (call) => {
          order.push(`${name}>`);
          const result = await next(call);
          order.push(`<${name}`);
          return result;
        };
      const transport = await env.connect();
      const definition = { ...TestServiceDefinition, fullName: 'warren.test.v1.GuardedService' };
      const deny: Interceptor = (next) => async (call) => {
        if (call.metadata['role'] !== 'admin') throw new RpcError(Code.PERMISSION_DENIED, 'admins only');
        return next(call);
      };
      const server = createServer({ transport, instance: 'guarded', interceptors: [tag('s1'), deny, tag('s2')] }).add(
        definition,
        testService('guarded').implementation,
      );
      await server.start();
      servers.push(server);
      const guarded = createClient(definition, clientTransport, { interceptors: [tag('c1'), tag('c2')] });
      await guarded.echo({}, { metadata: { role: 'admin' } });
      expect(order).toEqual(['c1>', 'c2>', 's1>', 's2>', '<s2', '<s1', '<c2', '<c1']);
      expect((await rejectionOf(guarded.echo({}, { metadata: { role: 'guest' } }))).code).toBe(Code.PERMISSION_DENIED);
    });

    it('drains in-flight calls on close, and redelivers abandoned ones without running non-idempotent methods twice', async () => {
      const definition = { ...TestServiceDefinition, fullName: 'warren.test.v1.DrainService' };
      const first = { transport: await env.connect(), ...testService('drain-1') };
      const server1 = createServer({ transport: first.transport, instance: 'drain-1', drainMs: 150 }).add(
        definition,
        first.implementation,
      );
      await server1.start();
      const drainClient = createClient(definition, clientTransport);
      const finishing = drainClient.sleep({ millis: 50 }, { timeoutMs: 5000 });
      const idempotent = drainClient.sleep({ millis: 2000, ignoreAbort: true }, { timeoutMs: 8000 });
      const unsafe = rejectionOf(drainClient.increment({ counter: 'c', delayMs: 2000 }, { timeoutMs: 8000 }));
      await new Promise((resolve) => setTimeout(resolve, 30));
      const closing = server1.close();
      expect((await finishing).instance).toBe('drain-1');
      await closing;
      const second = { transport: await env.connect(), ...testService('drain-2') };
      const server2 = createServer({ transport: second.transport, instance: 'drain-2' }).add(
        definition,
        second.implementation,
      );
      await server2.start();
      servers.push(server2);
      expect((await idempotent).instance).toBe('drain-2');
      const error = await unsafe;
      expect(error.code).toBe(Code.ABORTED);
      expect(second.ledger.started.filter((s) => s.method === 'increment')).toHaveLength(0);
    });
  });
}

async function healthCheck(transport: Transport, service: string): Promise<CheckResponse> {
  const reply = await transport.request(
    {
      service,
      method: HEALTH_CHECK_PATH,
      contentType: 'application/x-protobuf',
      body: new Uint8Array(0),
      metadata: {},
      deadline: Date.now() + 2000,
      messageId: 'health',
    },
    new AbortController().signal,
  );
  expect(reply.status).toBe(Code.OK);
  return CheckResponse.decode(reply.body);
}
