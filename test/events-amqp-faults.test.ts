import { connect, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createEventBus,
  createMemoryDedupStore,
  deduplicate,
  defaultLogger,
  type EventBus,
  type EventContext,
  RpcError,
} from '../core/index.js';
import { createAmqpEvents } from '../core/tooling.js';
import { CacheInvalidated, OrderShipped, Tick, Unrouted } from '../gen/warren/test/v1/test_events.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { waitFor } from '../core/testing/events-waits.js';
import { createTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

/**
 * Events on the real broker under load and faults: fan-out of 10,000 events
 * to three groups of two instances (one of them cut off midway), publishing
 * through a connection that is cut, a publish the broker refuses, a stalled
 * network, and subscriptions re-attached on a fresh connection. The broker
 * itself is never stopped: a TCP proxy breaks the network between one client
 * and RabbitMQ.
 */
describe('events on the broker: load and network faults', () => {
  let vhost: TestVhost;
  let proxy: TcpProxy;
  let proxiedUrl: string;
  const transports: AmqpTransport[] = [];
  const buses: EventBus[] = [];

  async function transport(url = vhost.url): Promise<AmqpTransport> {
    const created = await connectAmqp({ url });
    transports.push(created);
    return created;
  }

  async function bus(url = vhost.url): Promise<EventBus> {
    const created = createEventBus({ transport: await transport(url), service: 'load' });
    buses.push(created);
    return created;
  }

  beforeAll(async () => {
    vhost = await createTestVhost('events-faults');
    proxy = createTcpProxy();
    const url = new URL(vhost.url);
    const port = await proxy.start(Number(url.port || 5672), url.hostname);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    proxiedUrl = url.toString();
  });

  afterAll(async () => {
    await Promise.all(buses.map((open) => open.close().catch(() => undefined)));
    for (const open of transports) await open.close().catch(() => undefined);
    await proxy.close();
    await vhost.remove();
  });

  it('fans 10,000 events out to 3 groups x 2 instances: each group handles each event exactly once', async () => {
    const total = 10_000;
    const run = `fan-${Date.now()}`;
    const groups = ['billing', 'mailer', 'search'];
    const effects = new Map(groups.map((group) => [group, new Map<number, number>()]));
    const deliveries = new Map<string, number>();
    let redelivered = 0;
    let cutDone = false;
    for (const group of groups) {
      // One store per group, shared by its instances: a database table with a unique key, in a real service.
      const handler = deduplicate<Tick>((tick) => {
        const seen = effects.get(group)!;
        seen.set(Number(tick.seq), (seen.get(Number(tick.seq)) ?? 0) + 1);
      }, createMemoryDedupStore(total));
      for (const instance of [1, 2]) {
        const key = `${group}-${instance}`;
        // billing-2 goes through the proxy and is cut off midway, with deliveries unacked.
        const events = await bus(key === 'billing-2' ? proxiedUrl : vhost.url);
        await events.subscribe(
          Tick,
          (tick, ctx: EventContext) => {
            if (tick.run !== run) return;
            deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
            if (ctx.redelivered) redelivered++;
            if (key === 'billing-2' && !cutDone && deliveries.get(key)! >= 1_000) {
              cutDone = true;
              proxy.cut();
            }
            return handler(tick, ctx);
          },
          { group, prefetch: 64 },
        );
      }
    }
    const publisher = await bus();
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 500 }, async () => {
        while (next < total) await publisher.publish(Tick, { run, seq: next++ });
      }),
    );
    const published = Date.now();
    await waitFor(
      () => groups.every((group) => effects.get(group)!.size === total),
      'every group to handle every event',
      40_000,
    );
    const done = Date.now();
    for (const group of groups) {
      const counts = [...effects.get(group)!.values()];
      expect(counts.every((count) => count === 1)).toBe(true);
      expect(deliveries.get(`${group}-1`)).toBeGreaterThan(0);
      expect(deliveries.get(`${group}-2`)).toBeGreaterThan(0);
    }
    expect(cutDone).toBe(true);
    expect(redelivered).toBeGreaterThan(0); // the cut instance's unacked events came back to its peer
    const totalDeliveries = [...deliveries.values()].reduce((sum, count) => sum + count, 0);
    console.log(
      `fan-out: ${total} events published in ${published - started} ms, ${totalDeliveries} deliveries (${redelivered} redelivered after the cut) handled in ${done - started} ms`,
    );
  }, 60_000);

  it('loses nothing it confirmed when the connection is cut while publishing', async () => {
    const received = new Set<string>();
    await (
      await bus()
    ).subscribe(Tick, (_tick, ctx) => void received.add(ctx.messageId), { group: 'cut-audit', prefetch: 256 });
    const publisher = await bus(proxiedUrl);
    const confirmed = new Set<string>();
    const failures: unknown[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 20_000) {
        const messageId = `cut-${next++}`;
        if (confirmed.size >= 1_500 && proxy.connections > 0) proxy.cut();
        try {
          await publisher.publish(Tick, { run: 'cut', seq: next }, { messageId });
          confirmed.add(messageId);
        } catch (error) {
          failures.push(error);
          if (failures.length > 200) return;
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    expect(confirmed.size).toBeGreaterThanOrEqual(1_500);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((error) => error instanceof RpcError && error.code === Code.UNAVAILABLE)).toBe(true);
    await waitFor(() => [...confirmed].every((id) => received.has(id)), 'every confirmed event to arrive');
    const lost = [...confirmed].filter((id) => !received.has(id));
    expect(lost).toEqual([]);
  });

  it('reports a publish the broker refuses as RESOURCE_EXHAUSTED', async () => {
    // A foreign subscriber's queue that takes one event and refuses the rest.
    const model = await connect(vhost.url);
    try {
      const channel = await model.createChannel();
      await channel.assertExchange('warren.events', 'topic', { durable: true });
      await channel.assertQueue('full-queue', {
        durable: true,
        arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
      });
      await channel.bindQueue('full-queue', 'warren.events', Unrouted.$type);
      const publisher = await bus();
      await publisher.publish(Unrouted, { note: 'fits' });
      await expect(publisher.publish(Unrouted, { note: 'refused' })).rejects.toMatchObject({
        code: Code.RESOURCE_EXHAUSTED,
      });
      await channel.deleteQueue('full-queue');
    } finally {
      await model.close();
    }
  });

  it('completes publishes held up by a stalled network once it resumes', async () => {
    const received: string[] = [];
    await (await bus()).subscribe(OrderShipped, (order) => void received.push(order.orderId), { group: 'stall-audit' });
    const publisher = await bus(proxiedUrl);
    await publisher.publish(OrderShipped, { orderId: 'before' });
    proxy.stall();
    let settled = false;
    const held = publisher.publish(OrderShipped, { orderId: 'held' }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    proxy.resume();
    await held;
    await waitFor(() => received.includes('held'), 'the held event');
    expect(received).toEqual(['before', 'held']);
  });

  it("keeps consuming through the transport's own reconnection", async () => {
    const publisher = await bus();
    const transport = await connectAmqp({ url: proxiedUrl, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    transports.push(transport);
    const subscriber = createEventBus({ transport, service: 'auto', instance: 'auto-1' });
    buses.push(subscriber);
    const ticks = new Set<number>();
    const keys = new Set<string>();
    await subscriber.subscribe(
      Tick,
      (tick) => {
        if (tick.run === 'auto') ticks.add(Number(tick.seq));
      },
      { group: 'auto-reconnect' },
    );
    await subscriber.subscribe(CacheInvalidated, (event) => void keys.add(event.key), {
      group: 'auto-cache',
      broadcast: true,
    });
    for (let seq = 0; seq < 3; seq++) await publisher.publish(Tick, { run: 'auto', seq });
    await waitFor(() => ticks.size === 3, 'events before the cut');
    proxy.cut();
    for (let seq = 3; seq < 6; seq++) await publisher.publish(Tick, { run: 'auto', seq });
    await waitFor(() => ticks.size === 6, 'events after the transport reconnected');
    // The broadcast queue is re-declared too (once the broker has dropped the old exclusive one).
    await waitForAsync(async () => {
      await publisher.publish(CacheInvalidated, { key: 'after' }, { requireRoute: false });
      await new Promise((resolve) => setTimeout(resolve, 50));
      return keys.has('after');
    });
    await subscriber.publish(Tick, { run: 'auto', seq: 6 });
    await waitFor(() => ticks.has(6), 'a publish on the new connection');
  });

  it('consumes again, queues re-declared, once re-attached to a fresh connection', async () => {
    const publisher = await bus();
    const first: ChannelModel = await connect(proxiedUrl);
    first.on('error', () => undefined); // the cut below resets it
    const events = createAmqpEvents(first, { logger: defaultLogger() });
    const subscriber = createEventBus({ transport: { events }, service: 'reattach', instance: 'reattach-1' });
    const ticks = new Set<number>(); // a set: acks in flight at the cut mean redeliveries (at-least-once)
    const keys: string[] = [];
    await subscriber.subscribe(
      Tick,
      (tick) => {
        if (tick.run === 'reattach') ticks.add(Number(tick.seq));
      },
      { group: 'reattach' },
    );
    await subscriber.subscribe(CacheInvalidated, (event) => void keys.push(event.key), {
      group: 'reattach-cache',
      broadcast: true,
    });
    for (let seq = 0; seq < 5; seq++) await publisher.publish(Tick, { run: 'reattach', seq });
    await waitFor(() => ticks.size === 5, 'events before the cut');

    const closed = new Promise((resolve) => first.once('close', resolve)); // not events.once: it rejects on the 'error' that comes first
    proxy.cut();
    await closed;
    await expect(subscriber.publish(Tick, { run: 'reattach', seq: -1 })).rejects.toMatchObject({
      code: Code.UNAVAILABLE,
    });
    for (let seq = 5; seq < 10; seq++) await publisher.publish(Tick, { run: 'reattach', seq }); // kept by the durable group queue
    await waitForQueueGone(vhost.url, 'events.reattach-cache.bcast.reattach-1'); // the broker dropped the old connection

    const second: ChannelModel = await connect(proxiedUrl);
    try {
      await events.attach(second);
      await waitFor(() => ticks.size === 10, 'events published while disconnected');
      expect([...ticks].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await publisher.publish(CacheInvalidated, { key: 'after' });
      await subscriber.publish(Tick, { run: 'reattach', seq: 10 });
      await waitFor(
        () => keys.includes('after') && ticks.has(10),
        'the broadcast queue and the publisher on the new connection',
      );
    } finally {
      await subscriber.close();
      await events.close();
      await second.close();
    }
  });
});

/** Waits until the broker no longer has `queue` (an exclusive queue of a connection it has not yet dropped). */
async function waitForQueueGone(url: string, queue: string): Promise<void> {
  const model = await connect(url);
  try {
    await waitForAsync(async () => {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      try {
        await channel.checkQueue(queue);
        await channel.close();
        return false;
      } catch (error) {
        return (error as { code?: number }).code === 404;
      }
    });
  } finally {
    await model.close();
  }
}

async function waitForAsync(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
