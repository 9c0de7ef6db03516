import { setMaxListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createClient,
  createEventBus,
  createServer,
  type EventBus,
  RpcError,
  type Server,
} from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { OrderShipped } from '../gen/warren/test/v1/test_events.js';
import { waitFor } from '../core/testing/events-waits.js';
import {
  expectNoAbortListeners,
  expectNoHandleLeak,
  expectTransportSettled,
  takeLeakProbe,
  type LeakProbe,
} from './support/leak-check.js';
import { createTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { testService, type TestServiceLedger } from '../core/testing/test-service.js';
import { startThrowawayBroker, type ThrowawayBroker } from './support/throwaway-broker.js';

/** Resolves how a promise ended: its RpcError code (0 = fulfilled) and when. */
async function outcome(promise: Promise<unknown>): Promise<{ code: number; at: number }> {
  try {
    await promise;
    return { code: Code.OK, at: Date.now() };
  } catch (error) {
    return { code: error instanceof RpcError ? error.code : -1, at: Date.now() };
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Memory alarms and lost connections on a throwaway node of our own: the shared broker's watermark is never changed.
describe('broker resource alarm and event publishes while disconnected', () => {
  let broker: ThrowawayBroker;
  let probe: LeakProbe;
  let proxy: TcpProxy;
  const transports: AmqpTransport[] = [];
  const buses: EventBus[] = [];
  const servers: Server[] = [];
  let ledger: TestServiceLedger;
  const shipped: string[] = [];

  async function connect(url = broker.url): Promise<AmqpTransport> {
    const transport = await connectAmqp({ url, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } });
    transports.push(transport);
    return transport;
  }

  function busOn(transport: AmqpTransport, service: string): EventBus {
    const bus = createEventBus({ transport, service });
    buses.push(bus);
    return bus;
  }

  beforeAll(async () => {
    probe = takeLeakProbe();
    broker = await startThrowawayBroker({ label: 'blocked' });
    proxy = createTcpProxy();
    await proxy.start(broker.ports.amqp);
    const serverTransport = await connect();
    const service = testService('alarm');
    ledger = service.ledger;
    const server = createServer({ transport: serverTransport, instance: 'alarm' }).add(
      TestServiceDefinition,
      service.implementation,
    );
    await server.start();
    servers.push(server);
    await busOn(serverTransport, 'audit').subscribe(OrderShipped, (order) => void shipped.push(order.orderId), {
      group: 'alarm-audit',
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    for (const server of servers) await server.close();
    for (const transport of transports) await transport.close();
    await proxy?.close();
    await broker?.remove();
    await expectNoHandleLeak(probe);
  }, 60_000);

  it('fails new calls and event publishes fast with UNAVAILABLE while the broker blocks the connection, and works again after', async () => {
    const caller = new AbortController(); // every call below listens on it
    setMaxListeners(100, caller.signal);
    const callerTransport = await connect();
    const publisherTransport = await connect();
    const client = createClient(TestServiceDefinition, callerTransport, { retry: false });
    const callerBus = busOn(callerTransport, 'caller');
    const publisherBus = busOn(publisherTransport, 'publisher');
    const publisherClient = createClient(TestServiceDefinition, publisherTransport, { retry: false });
    expect((await client.echo({ text: 'before' })).text).toBe('before');
    await publisherBus.publish(OrderShipped, { orderId: 'before' });

    await broker.rabbitmqctl('set_vm_memory_high_watermark', '0.0000001');
    // RabbitMQ blocks a connection (and tells it) when it next publishes: that first publish is held in the
    // broker's socket buffer, not lost, so it cannot fail fast; it ends by its own deadline
    const heldCallSentAt = Date.now();
    const heldCall = outcome(client.echo({ text: 'held' }, { timeoutMs: 3000, signal: caller.signal }));
    const heldPublishSentAt = Date.now();
    const heldPublish = outcome(publisherBus.publish(OrderShipped, { orderId: 'held' }, { timeoutMs: 3000 }));
    await until(
      () => callerTransport.blocked !== undefined && publisherTransport.blocked !== undefined,
      'both connections blocked',
    );
    expect(callerTransport.blocked).toMatch(/memory/);

    // from then on everything on a blocked connection fails at once, long before its 10 s deadline
    const sentAt = Date.now();
    const fast = await Promise.all([
      ...Array.from({ length: 20 }, () => outcome(client.echo({}, { timeoutMs: 10_000, signal: caller.signal }))),
      outcome(callerBus.publish(OrderShipped, { orderId: 'refused-1' }, { timeoutMs: 10_000 })),
      outcome(publisherBus.publish(OrderShipped, { orderId: 'refused-2' }, { timeoutMs: 10_000 })),
      outcome(publisherClient.sleep({ millis: 1 }, { timeoutMs: 10_000, signal: caller.signal })),
    ]);
    expect(fast.map((o) => o.code)).toEqual(fast.map(() => Code.UNAVAILABLE));
    expect(Math.max(...fast.map((o) => o.at)) - sentAt).toBeLessThan(1000);

    // the held ones end at their deadline: DEADLINE_EXCEEDED (they may still be delivered once the alarm clears)
    const call = await heldCall;
    const publish = await heldPublish;
    expect(call.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(publish.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(call.at - heldCallSentAt).toBeGreaterThanOrEqual(2900);
    expect(publish.at - heldPublishSentAt).toBeGreaterThanOrEqual(2900);

    // closing a transport while the broker blocks it does not wait for the alarm to clear
    const doomed = await connectAmqp({ url: broker.url });
    const doomedCall = outcome(
      createClient(TestServiceDefinition, doomed, { retry: false }).echo({}, { timeoutMs: 20_000 }),
    );
    await until(() => doomed.blocked !== undefined, 'the third connection blocked');
    const closeStarted = Date.now();
    await doomed.close();
    const closeMs = Date.now() - closeStarted;
    expect((await doomedCall).code).toBe(Code.UNAVAILABLE);
    expect(closeMs).toBeLessThan(5000);

    const alarmAt = Date.now();
    await broker.rabbitmqctl('set_vm_memory_high_watermark', '0.4');
    await until(
      () => callerTransport.blocked === undefined && publisherTransport.blocked === undefined,
      'both connections unblocked',
    );
    const clearedMs = Date.now() - alarmAt;
    expect((await client.echo({ text: 'after' }, { signal: caller.signal })).text).toBe('after');
    await callerBus.publish(OrderShipped, { orderId: 'after' });
    await waitFor(() => shipped.includes('after'), 'the event published after the alarm');
    // the publish that timed out while held was delivered once the alarm cleared: DEADLINE_EXCEEDED meant "may have been published"
    await waitFor(() => shipped.includes('held'), 'the held event');
    expect(shipped.filter((id) => id.startsWith('refused'))).toEqual([]);
    // the held call reached the server after its deadline (before the 'after' call, published later on the
    // same channel, was answered) and was dropped unrun: no handler ever started past its deadline
    expect(ledger.started.filter((s) => s.remainingMs <= 0)).toEqual([]);

    await expectTransportSettled(callerTransport, { channels: 2 }); // request channel + event publishing channel
    await expectTransportSettled(publisherTransport, { channels: 1 }); // its one call failed before opening a request channel
    expectNoAbortListeners(caller.signal);
    console.info(
      `memory alarm: ${fast.length} calls and publishes failed fast (slowest ${Math.max(...fast.map((o) => o.at)) - sentAt} ms), held call and publish ended at their 3 s deadline, close while blocked took ${closeMs} ms, unblocked ${clearedMs} ms after the alarm was cleared`,
    );
  }, 120_000);

  it('waits for a lost connection to publish an event, up to its publish timeout', async () => {
    const transport = await connect(`amqp://guest:guest@127.0.0.1:${proxy.port}`);
    const bus = busOn(transport, 'patient');
    await bus.publish(OrderShipped, { orderId: 'connected' });

    proxy.stall();
    proxy.cut(); // the connection is gone and reconnecting stalls until resume()
    await until(() => !transport.connected, 'the connection lost');
    const waitingStarted = Date.now();
    const waited = outcome(bus.publish(OrderShipped, { orderId: 'waited' }, { timeoutMs: 20_000 }));
    const gaveUp = outcome(bus.publish(OrderShipped, { orderId: 'gave-up' }, { timeoutMs: 400 }));
    const late = await gaveUp;
    // never sent: UNAVAILABLE (not published), at its timeout
    expect(late.code).toBe(Code.UNAVAILABLE);
    expect(late.at - waitingStarted).toBeGreaterThanOrEqual(380);
    expect(transport.stats().waitingForConnection).toBe(1);
    proxy.resume();
    const done = await waited;
    expect(done.code).toBe(Code.OK);
    await waitFor(() => shipped.includes('waited'), 'the event published after the reconnection');
    expect(shipped).not.toContain('gave-up');
    await expectTransportSettled(transport, { channels: 1 }); // the publishing channel on the new connection
    console.info(
      `event publish while disconnected: waited ${done.at - waitingStarted} ms for the connection; a 400 ms publish gave up after ${late.at - waitingStarted} ms`,
    );
  }, 60_000);

  it('refuses a publish timeout that is not a positive number', async () => {
    const bus = busOn(await connect(), 'invalid');
    await expect(bus.publish(OrderShipped, { orderId: 'x' }, { timeoutMs: 0 })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
    });
    await expect(bus.publish(OrderShipped, { orderId: 'x' }, { timeoutMs: Number.NaN })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
    });
  });
});
