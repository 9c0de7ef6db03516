import { setMaxListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient, createServer, type Server } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { CallLedger } from './support/call-ledger.js';
import {
  expectNoAbortListeners,
  expectNoHandleLeak,
  expectTransportSettled,
  takeLeakProbe,
  type LeakProbe,
} from './support/leak-check.js';
import { createTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { testService, type TestServiceLedger } from '../core/testing/test-service.js';

function viaProxy(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs every ledger rule about handlers: no handler started after its deadline, no unsafe method twice. */
function expectHandlerRules(ledger: TestServiceLedger): void {
  const increments = ledger.started.filter((s) => s.method === 'increment').map((s) => s.messageId);
  expect(new Set(increments).size).toBe(increments.length);
  expect(ledger.started.filter((s) => s.remainingMs <= 0)).toEqual([]);
}

describe('connection loss', () => {
  let vhost: TestVhost;
  let proxy: TcpProxy;
  const transports: AmqpTransport[] = [];
  const servers: Server[] = [];
  let probe: LeakProbe;

  beforeAll(async () => {
    probe = takeLeakProbe();
    vhost = await createTestVhost('resilience');
    proxy = createTcpProxy();
    await proxy.start(Number(new URL(vhost.url).port || 5672));
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    for (const transport of transports) await transport.close();
    await proxy.close();
    await vhost.remove();
    await expectNoHandleLeak(probe);
  });

  async function connect(throughProxy: boolean): Promise<AmqpTransport> {
    const transport = await connectAmqp({
      url: throughProxy ? viaProxy(vhost.url, proxy.port) : vhost.url,
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    transports.push(transport);
    return transport;
  }

  it('fails 500 in-flight calls fast when the client connection is cut, retries the idempotent ones, and recovers', async () => {
    const serverTransport = await connect(false);
    const { implementation, ledger } = testService('direct');
    const server = createServer({ transport: serverTransport, instance: 'direct', prefetch: 512 }).add(
      TestServiceDefinition,
      implementation,
    );
    await server.start();
    servers.push(server);
    const clientTransport = await connect(true);
    const client = createClient(TestServiceDefinition, clientTransport);
    await client.echo({ text: 'warm-up' });

    const calls = new CallLedger();
    const caller = new AbortController(); // every call listens on it: none may leave its listener behind
    setMaxListeners(1000, caller.signal);
    const pending = [
      ...Array.from({ length: 250 }, (_, i) =>
        calls.track('idempotent', 5000, () =>
          client.sleep({ millis: 300 + (i % 50) }, { timeoutMs: 5000, signal: caller.signal }),
        ),
      ),
      ...Array.from({ length: 250 }, () =>
        calls.track('unsafe', 5000, () =>
          client.increment({ counter: 'cut', delayMs: 300 }, { timeoutMs: 5000, signal: caller.signal }),
        ),
      ),
    ];
    await until(() => ledger.started.length >= 500);
    const cutAt = Date.now();
    proxy.cut();
    const outcomes = await Promise.all(pending);
    calls.expectComplete(200);

    const unsafe = outcomes.filter((o) => o.kind === 'unsafe');
    expect(unsafe.every((o) => o.code === Code.UNAVAILABLE)).toBe(true);
    expect(Math.max(...unsafe.map((o) => o.settledAt)) - cutAt).toBeLessThan(1000);
    const idempotent = outcomes.filter((o) => o.kind === 'idempotent');
    // a dropped connection is the transport's failure, not the service's: retried on the new connection without spending the budget
    expect(idempotent.every((o) => o.code === Code.OK)).toBe(true);
    expectHandlerRules(ledger);

    await until(() => clientTransport.stats().reconnections === 1);
    expect((await client.echo({ text: 'after' })).text).toBe('after');
    await expectTransportSettled(clientTransport, { channels: 1 });
    expectNoAbortListeners(caller.signal);
    console.info(
      'client cut:',
      JSON.stringify(calls.summary()),
      `unsafe failed within ${Math.max(...unsafe.map((o) => o.settledAt)) - cutAt} ms`,
    );
  });

  it('resumes serving after the server connection is cut: idempotent calls answered, unsafe ones ABORTED, none run twice', async () => {
    const serverTransport = await connect(true);
    const { implementation, ledger } = testService('proxied');
    const definition = { ...TestServiceDefinition, fullName: 'warren.test.v1.ProxiedService' };
    const server = createServer({ transport: serverTransport, instance: 'proxied', prefetch: 256 }).add(
      definition,
      implementation,
    );
    await server.start();
    servers.push(server);
    const client = createClient(definition, await connect(false));

    const calls = new CallLedger();
    const pending = [
      ...Array.from({ length: 100 }, () =>
        calls.track('idempotent', 8000, () => client.sleep({ millis: 400 }, { timeoutMs: 8000 })),
      ),
      ...Array.from({ length: 100 }, () =>
        calls.track('unsafe', 8000, () => client.increment({ counter: 'srv', delayMs: 400 }, { timeoutMs: 8000 })),
      ),
    ];
    await until(() => ledger.started.length >= 200);
    const cutAt = Date.now();
    proxy.cut();
    const outcomes = await Promise.all(pending);
    calls.expectComplete(200);
    expect(outcomes.filter((o) => o.kind === 'idempotent').every((o) => o.code === Code.OK)).toBe(true);
    expect(outcomes.filter((o) => o.kind === 'unsafe').every((o) => o.code === Code.ABORTED)).toBe(true);
    expectHandlerRules(ledger);
    expect(serverTransport.stats().reconnections).toBe(1);
    await expectTransportSettled(serverTransport, { channels: 1 }); // the service's channel on the new connection, none left over
    console.info(
      'server cut:',
      JSON.stringify(calls.summary()),
      `recovered in ${Math.max(...outcomes.map((o) => o.settledAt)) - cutAt} ms`,
    );
  });

  it('holds calls made while disconnected until the connection is back, within their deadline', async () => {
    const transport = await connect(true);
    const server = createServer({ transport: await connect(false), instance: 'held' }).add(
      { ...TestServiceDefinition, fullName: 'warren.test.v1.HeldService' },
      testService('held').implementation,
    );
    await server.start();
    servers.push(server);
    const client = createClient({ ...TestServiceDefinition, fullName: 'warren.test.v1.HeldService' }, transport);
    await client.echo({});
    proxy.stall();
    proxy.cut();
    const during = client.echo({ text: 'while down' }, { timeoutMs: 5000 });
    proxy.resume();
    expect((await during).text).toBe('while down');
    proxy.stall();
    proxy.cut();
    // a connection that cannot come back in time ends in DEADLINE_EXCEEDED at the deadline
    const blocked = await client.echo({}, { timeoutMs: 300 }).catch((error: { code: number }) => error.code);
    proxy.resume();
    expect(blocked).toBe(Code.DEADLINE_EXCEEDED);
    await until(() => transport.connected);
    await client.echo({ text: 'back' });
    await expectTransportSettled(transport, { channels: 1 }); // the request channel is opened afresh on the new connection, the old one is gone
  });

  it('answers 10,000 concurrent calls', async () => {
    const client = createClient(TestServiceDefinition, await connect(false));
    const replies = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => client.echo({ number: i }, { timeoutMs: 30_000 })),
    );
    expect(replies.every((reply, i) => reply.number === BigInt(i))).toBe(true);
  });
});
