import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Code,
  createClient,
  createEventBus,
  createServer,
  deduplicate,
  type EventBus,
  type EventBusOptions,
  type EventContext,
  type EventInterceptor,
  type RawEvent,
  RpcError,
  type Server,
  type Transport,
} from '../index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { CacheInvalidated, OrderCreated, OrderShipped, Tick, Unrouted } from '../../gen/warren/test/v1/test_events.js';
import { rejectionOf, waitFor, waitForDeadLetters } from './events-waits.js';
import { testService } from './test-service.js';

/** How a conformance run gets transports: one per "process" (memory returns the shared one). */
export interface EventsEnvironment {
  connect(): Promise<Transport>;
  dispose(): Promise<void>;
}

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/**
 * The event semantics every transport must share, run against the memory
 * transport and against the real broker. Groups are unique per test, since
 * broker suites share one vhost per file.
 */
export function describeEventsConformance(kind: string, makeEnvironment: () => Promise<EventsEnvironment>): void {
  describe(`events conformance (${kind})`, () => {
    let env: EventsEnvironment;
    let buses: EventBus[] = [];
    const servers: Server[] = [];
    const run = randomBytes(3).toString('hex');
    let counter = 0;
    const group = (label: string): string => `${label}-${run}-${++counter}`;

    async function bus(options: Partial<EventBusOptions> = {}): Promise<EventBus> {
      const created = createEventBus({ transport: await env.connect(), service: 'orders', ...options });
      buses.push(created);
      return created;
    }

    beforeAll(async () => {
      env = await makeEnvironment();
    });
    afterEach(async () => {
      await Promise.all(buses.map((open) => open.close()));
      buses = [];
      await Promise.all(servers.splice(0).map((server) => server.close()));
    });
    afterAll(async () => {
      await env.dispose();
    });

    it('delivers a typed event with its id, publisher, time and metadata', async () => {
      const publisher = await bus();
      const subscriber = await bus({ service: 'notifications' });
      const received: { order: OrderCreated; ctx: EventContext }[] = [];
      const name = group('typed');
      const subscription = await subscriber.subscribe(
        OrderCreated,
        (order, ctx) => void received.push({ order, ctx }),
        { group: name },
      );
      expect(subscription.queue).toBe(`events.${name}`);
      const before = Date.now();
      const messageId = await publisher.publish(
        OrderCreated,
        { orderId: 'o-1', amountCents: 1250n, customer: 'ada' },
        { metadata: { tenant: 'acme', traceparent: TRACEPARENT } },
      );
      await waitFor(() => received.length === 1, 'the event');
      const { order, ctx } = received[0]!;
      expect(order).toEqual({ orderId: 'o-1', amountCents: 1250n, customer: 'ada' });
      expect(ctx).toMatchObject({
        type: 'warren.test.v1.OrderCreated',
        messageId,
        publisher: 'orders',
        attempt: 1,
        group: name,
        queue: `events.${name}`,
      });
      expect(ctx.metadata).toEqual({ tenant: 'acme', traceparent: TRACEPARENT });
      expect(ctx.publishedAt).toBeGreaterThanOrEqual(before);
      expect(ctx.publishedAt).toBeLessThanOrEqual(Date.now());
    });

    it('fans out to every group; instances of one group share the events', async () => {
      const publisher = await bus();
      const [shared, other] = [group('shared'), group('other')];
      const seen = { a1: [] as number[], a2: [] as number[], b: [] as number[] };
      const tag = `fan-${run}`;
      const record = (into: number[]) => (tick: Tick) => {
        if (tick.run === tag) into.push(Number(tick.seq));
      };
      await (await bus()).subscribe(Tick, record(seen.a1), { group: shared });
      await (await bus()).subscribe(Tick, record(seen.a2), { group: shared });
      await (await bus()).subscribe(Tick, record(seen.b), { group: other });
      const total = 60;
      await Promise.all(Array.from({ length: total }, (_, seq) => publisher.publish(Tick, { run: tag, seq })));
      await waitFor(
        () => seen.a1.length + seen.a2.length === total && seen.b.length === total,
        'every event in both groups',
      );
      const all = Array.from({ length: total }, (_, seq) => seq);
      expect([...seen.a1, ...seen.a2].sort((x, y) => x - y)).toEqual(all);
      expect([...seen.b].sort((x, y) => x - y)).toEqual(all);
      expect(seen.a1.length).toBeGreaterThan(0);
      expect(seen.a2.length).toBeGreaterThan(0);
    });

    it('gives every broadcast instance its own copy, for as long as it runs', async () => {
      const publisher = await bus();
      const name = group('cache');
      const first: string[] = [];
      const second: string[] = [];
      const one = await (
        await bus()
      ).subscribe(CacheInvalidated, (event) => void first.push(event.key), { group: name, broadcast: true });
      const two = await (
        await bus()
      ).subscribe(CacheInvalidated, (event) => void second.push(event.key), { group: name, broadcast: true });
      expect(one.queue).not.toBe(two.queue);
      expect(one.queue.startsWith(`events.${name}.bcast.`)).toBe(true);
      for (const key of ['a', 'b', 'c']) await publisher.publish(CacheInvalidated, { key });
      await waitFor(() => first.length === 3 && second.length === 3, 'both instances to get every event');
      await one.close();
      await publisher.publish(CacheInvalidated, { key: 'd' });
      await waitFor(() => second.length === 4, 'the remaining instance');
      expect(first).toEqual(['a', 'b', 'c']);
      expect(second).toEqual(['a', 'b', 'c', 'd']);
    });

    it('routes by topic pattern, exact types first within a group', async () => {
      // Patterns stay clear of Unrouted: broker suites share one vhost, and bindings outlive a test.
      const publisher = await bus();
      const subscriber = await bus();
      const raw: RawEvent[] = [];
      const typed: OrderCreated[] = [];
      const shadowed: string[] = [];
      const rest: string[] = [];
      const byPattern = group('pattern');
      const mixed = group('mixed');
      await subscriber.subscribe('*.test.v1.OrderCreated', (event: RawEvent) => void raw.push(event), {
        group: byPattern,
      });
      await subscriber.subscribe('warren.#.OrderShipped', (event: RawEvent) => void raw.push(event), {
        group: byPattern,
      });
      await subscriber.subscribe('*.*.*.OrderCreated', (event: RawEvent) => void shadowed.push(event.type), {
        group: mixed,
      });
      await subscriber.subscribe(OrderCreated, (order) => void typed.push(order), { group: mixed });
      await subscriber.subscribe('#.OrderShipped', (event: RawEvent) => void rest.push(event.type), { group: mixed });
      await publisher.publish(OrderCreated, { orderId: 'p-1' });
      await publisher.publish(OrderShipped, { orderId: 'p-1', carrier: 'dhl' });
      await waitFor(() => raw.length === 2 && typed.length === 1 && rest.length === 1, 'pattern deliveries');
      const created = raw.find((event) => event.type === OrderCreated.$type)!;
      expect(created.decode(OrderCreated).orderId).toBe('p-1');
      expect(raw.find((event) => event.type === OrderShipped.$type)!.decode(OrderShipped).carrier).toBe('dhl');
      expect(() => created.decode(OrderShipped)).toThrow(/not a warren.test.v1.OrderShipped/);
      expect(typed[0]!.orderId).toBe('p-1');
      expect(rest).toEqual([OrderShipped.$type]);
      expect(shadowed).toEqual([]);
    });

    it('rejects a publish no queue is bound for, unless told not to', async () => {
      const publisher = await bus();
      const error = await rejectionOf(publisher.publish(Unrouted, { note: 'nobody listens' }));
      expect(error.code).toBe(Code.FAILED_PRECONDITION);
      expect(error.rawMessage).toMatch(/no queue is bound for.*warren\.test\.v1\.Unrouted/);
      await expect(publisher.publish(Unrouted, { note: 'fine' }, { requireRoute: false })).resolves.toMatch(
        /[0-9a-f-]{36}/,
      );
      const lenient = await bus({ requireRoute: false });
      await expect(lenient.publish(Unrouted, {})).resolves.toBeTypeOf('string');
    });

    it('retries a failing handler with growing delays, then dead-letters it with its reason', async () => {
      const publisher = await bus();
      const name = group('retry');
      const attempts: { attempt: number; at: number }[] = [];
      const delays = [40, 80, 160];
      await (
        await bus()
      ).subscribe(
        OrderCreated,
        (_order, ctx) => {
          attempts.push({ attempt: ctx.attempt, at: Date.now() });
          throw new Error(`boom on attempt ${ctx.attempt}`);
        },
        { group: name, maxAttempts: 4, retryDelaysMs: delays },
      );
      const messageId = await publisher.publish(OrderCreated, { orderId: 'r-1' });
      await waitFor(() => attempts.length === 4, 'four attempts');
      const letters = await waitForDeadLetters(publisher, name, 1);
      expect(attempts.map((entry) => entry.attempt)).toEqual([1, 2, 3, 4]);
      const gaps = attempts.slice(1).map((entry, i) => entry.at - attempts[i]!.at);
      gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(delays[i]! - 5));
      expect(gaps[2]!).toBeGreaterThan(gaps[0]!);
      expect(letters[0]).toMatchObject({
        attempts: 4,
        queue: `events.${name}`,
        reason: '[INTERNAL] Error: boom on attempt 4',
      });
      expect(letters[0]!.event).toMatchObject({ type: OrderCreated.$type, messageId, publisher: 'orders' });
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(attempts).toHaveLength(4); // no further redelivery
    });

    it('replays dead letters: delivered again with a fresh attempt count', async () => {
      const publisher = await bus();
      const name = group('replay');
      let failing = true;
      const handled: { orderId: string; attempt: number }[] = [];
      await (
        await bus()
      ).subscribe(
        OrderCreated,
        (order, ctx) => {
          if (failing) throw new RpcError(Code.UNAVAILABLE, 'database down');
          handled.push({ orderId: order.orderId, attempt: ctx.attempt });
        },
        { group: name, maxAttempts: 2, retryDelaysMs: [20] },
      );
      await publisher.publish(OrderCreated, { orderId: 'd-1' });
      await publisher.publish(OrderCreated, { orderId: 'd-2' });
      const letters = await waitForDeadLetters(publisher, name, 2);
      expect(letters.map((letter) => letter.reason)).toEqual([
        '[UNAVAILABLE] database down',
        '[UNAVAILABLE] database down',
      ]);
      expect(await publisher.deadLetters(name)).toHaveLength(2); // listing leaves them in place
      failing = false;
      expect(await publisher.replay(name, { limit: 1 })).toEqual({ replayed: 1, kept: 0 });
      await waitFor(() => handled.length === 1, 'the first replayed event');
      expect(await publisher.replay(name)).toEqual({ replayed: 1, kept: 0 });
      await waitFor(() => handled.length === 2, 'the second replayed event');
      expect(handled).toEqual([
        { orderId: 'd-1', attempt: 1 },
        { orderId: 'd-2', attempt: 1 },
      ]);
      expect(await publisher.deadLetters(name)).toEqual([]);
    });

    it('dead-letters at once what a retry cannot fix', async () => {
      const publisher = await bus();
      const name = group('poison');
      let calls = 0;
      await (
        await bus()
      ).subscribe(
        OrderCreated,
        () => {
          calls++;
          throw new RpcError(Code.INVALID_ARGUMENT, 'order has no customer');
        },
        { group: name, retryDelaysMs: [10] },
      );
      await publisher.publish(OrderCreated, { orderId: 'x' });
      const transport = await env.connect();
      await transport.events!.publish(
        {
          type: OrderCreated.$type,
          contentType: 'application/x-protobuf',
          body: Uint8Array.of(0xff, 0xff, 0xff),
          metadata: {},
          messageId: 'garbage',
          publishedAt: Date.now(),
          publisher: 'rogue',
        },
        { mandatory: true },
      );
      const letters = await waitForDeadLetters(publisher, name, 2);
      expect(calls).toBe(1);
      const rejected = letters.find((letter) => letter.event.messageId !== 'garbage')!;
      const garbage = letters.find((letter) => letter.event.messageId === 'garbage')!;
      expect(rejected).toMatchObject({ attempts: 1, reason: '[INVALID_ARGUMENT] order has no customer' });
      expect(garbage).toMatchObject({ attempts: 1, event: { publisher: 'rogue' } });
      expect(garbage.reason).toMatch(
        /^\[INVALID_ARGUMENT\] event warren.test.v1.OrderCreated is not a valid protobuf message/,
      );
    });

    it("keeps a group's events while no instance runs, and delivers them when one returns", async () => {
      const publisher = await bus();
      const name = group('durable');
      const first = await (await bus()).subscribe(OrderCreated, () => undefined, { group: name });
      await first.close();
      for (let i = 0; i < 20; i++) await publisher.publish(OrderCreated, { orderId: `k-${i}` });
      const later: string[] = [];
      await (await bus()).subscribe(OrderCreated, (order) => void later.push(order.orderId), { group: name });
      await waitFor(() => later.length === 20, 'the events kept while down');
      expect(later).toEqual(Array.from({ length: 20 }, (_, i) => `k-${i}`));
    });

    it("passes the RPC handler's and the event handler's metadata and traceparent on", async () => {
      const transport = await env.connect();
      const events = createEventBus({ transport, service: 'orders' });
      buses.push(events);
      const { implementation } = testService('events');
      const server = createServer({ transport, instance: 'events' }).add(TestServiceDefinition, {
        ...implementation,
        async echo(request, ctx) {
          await events.publish(OrderCreated, { orderId: request.text });
          return implementation.echo(request, ctx);
        },
      });
      await server.start();
      servers.push(server);
      const shipped: EventContext[] = [];
      const subscriber = await bus({ service: 'shipping' });
      await subscriber.subscribe(
        OrderCreated,
        (order) => subscriber.publish(OrderShipped, { orderId: order.orderId }, { metadata: { step: 'ship' } }),
        { group: group('ship') },
      );
      await subscriber.subscribe(OrderShipped, (_order, ctx) => void shipped.push(ctx), { group: group('audit') });
      const client = createClient(TestServiceDefinition, await env.connect());
      await client.echo({ text: 'o-77' }, { metadata: { traceparent: TRACEPARENT, tenant: 'acme' } });
      await waitFor(() => shipped.length === 1, 'the chained event');
      expect(shipped[0]!.metadata).toEqual({ traceparent: TRACEPARENT, tenant: 'acme', step: 'ship' });
      expect(shipped[0]!.publisher).toBe('shipping');
    });

    it('runs event interceptors around publishing and handling', async () => {
      const seen: string[] = [];
      const interceptor: EventInterceptor = (next) => async (call) => {
        seen.push(`${call.side} ${call.type}`);
        await next(call.side === 'publish' ? { ...call, metadata: { ...call.metadata, traced: 'yes' } } : call);
      };
      const publisher = await bus({ interceptors: [interceptor] });
      const received: EventContext[] = [];
      await (
        await bus({ interceptors: [interceptor] })
      ).subscribe(OrderCreated, (_order, ctx) => void received.push(ctx), { group: group('intercepted') });
      await publisher.publish(OrderCreated, { orderId: 'i-1' });
      await waitFor(() => received.length === 1, 'the intercepted event');
      expect(received[0]!.metadata).toEqual({ traced: 'yes' });
      expect(seen).toEqual([`publish ${OrderCreated.$type}`, `handle ${OrderCreated.$type}`]);
    });

    it('runs a deduplicated handler once per message id', async () => {
      const publisher = await bus();
      let deliveries = 0;
      const runs: string[] = [];
      const handler = deduplicate<OrderCreated>((order) => void runs.push(order.orderId));
      await (
        await bus()
      ).subscribe(
        OrderCreated,
        (order, ctx) => {
          deliveries++;
          return handler(order, ctx);
        },
        { group: group('dedup') },
      );
      await publisher.publish(OrderCreated, { orderId: 'first' }, { messageId: 'same-id' });
      await publisher.publish(OrderCreated, { orderId: 'again' }, { messageId: 'same-id' });
      await publisher.publish(OrderCreated, { orderId: 'other' });
      await waitFor(() => deliveries === 3, 'three deliveries');
      expect(runs).toEqual(['first', 'other']);
    });

    it('refuses bad names, bad metadata and unknown groups with typed errors', async () => {
      const events = await bus();
      const handler = (): void => undefined;
      expect((await rejectionOf(events.subscribe(OrderCreated, handler, { group: 'has.dot' }))).code).toBe(
        Code.INVALID_ARGUMENT,
      );
      expect((await rejectionOf(events.subscribe('warren..x', handler, { group: 'fine' }))).code).toBe(
        Code.INVALID_ARGUMENT,
      );
      expect((await rejectionOf(events.subscribe(OrderCreated, handler, { group: 'fine', maxAttempts: 0 }))).code).toBe(
        Code.INVALID_ARGUMENT,
      );
      expect((await rejectionOf(events.publish(OrderCreated, {}, { metadata: { 'x-internal': '1' } }))).code).toBe(
        Code.INVALID_ARGUMENT,
      );
      expect((await rejectionOf(events.deadLetters(group('never')))).code).toBe(Code.NOT_FOUND);
    });
  });
}
