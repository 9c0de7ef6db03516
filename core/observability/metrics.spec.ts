import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { OrderCreated, Tick } from '../../gen/warren/test/v1/test_events.js';
import {
  Code,
  createClient,
  createEventBus,
  createMemoryTransport,
  createServer,
  PROTOBUF,
  RpcError,
  type Transport,
} from '../index.js';
import { createWarrenMetrics, type WarrenMetrics } from './metrics.js';
import { parsePrometheusText, sampleValue, type MetricSample } from './prometheus-text.js';

const SERVICE = 'warren.test.v1.TestService';

describe('Warren metrics (memory transport, a registry of its own)', () => {
  let registry: Registry;
  let metrics: WarrenMetrics;
  let transport: Transport;
  let close: () => Promise<void>;
  let unavailableLeft = 0;

  beforeAll(async () => {
    registry = new Registry();
    metrics = createWarrenMetrics({ registry });
    transport = createMemoryTransport();
    const server = createServer({ transport, metrics }).add(TestServiceDefinition, {
      echo: (request) => ({ text: request.text }),
      async sleep(request) {
        await new Promise((resolve) => setTimeout(resolve, request.millis));
        return {};
      },
      fail(request) {
        if (request.code === Code.UNAVAILABLE && unavailableLeft-- <= 0) return {};
        throw new RpcError(request.code, request.message);
      },
      increment: () => ({}),
      relay: () => ({}),
    });
    await server.start();
    close = async () => {
      await server.close();
      await transport.close();
    };
  });
  afterAll(() => close());

  const scrape = async (): Promise<MetricSample[]> => parsePrometheusText(await registry.metrics());
  const value = async (name: string, labels: Record<string, string>): Promise<number> =>
    sampleValue(await scrape(), name, labels) ?? 0;

  it('counts calls by method and code on both sides, times them and tracks those in flight', async () => {
    const client = createClient(TestServiceDefinition, transport, { metrics, retry: false });
    for (let i = 0; i < 7; i++) await client.echo({ text: `${i}` });
    for (let i = 0; i < 3; i++)
      await expect(client.fail({ code: Code.NOT_FOUND, message: 'gone' })).rejects.toThrow(/gone/);
    const slow = client.sleep({ millis: 200 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const during = await scrape();
    await slow;
    const after = await scrape();

    for (const side of ['client', 'server']) {
      expect(
        sampleValue(after, `warren_rpc_${side}_calls_total`, { service: SERVICE, method: 'Echo', code: 'OK' }),
      ).toBe(7);
      expect(
        sampleValue(after, `warren_rpc_${side}_calls_total`, { service: SERVICE, method: 'Fail', code: 'NOT_FOUND' }),
      ).toBe(3);
      expect(
        sampleValue(after, `warren_rpc_${side}_calls_total`, { service: SERVICE, method: 'Sleep', code: 'OK' }),
      ).toBe(1);
      expect(
        sampleValue(after, `warren_rpc_${side}_duration_seconds_count`, { service: SERVICE, method: 'Echo' }),
      ).toBe(7);
      expect(
        sampleValue(after, `warren_rpc_${side}_duration_seconds_bucket`, {
          service: SERVICE,
          method: 'Echo',
          le: '+Inf',
        }),
      ).toBe(7);
      expect(sampleValue(during, `warren_rpc_${side}_in_flight_calls`, { service: SERVICE, method: 'Sleep' })).toBe(1);
      expect(sampleValue(after, `warren_rpc_${side}_in_flight_calls`, { service: SERVICE, method: 'Sleep' })).toBe(0);
      // the 200 ms sleep lands in the buckets from 0.25 s up, not below 0.1 s
      expect(
        sampleValue(after, `warren_rpc_${side}_duration_seconds_bucket`, {
          service: SERVICE,
          method: 'Sleep',
          le: '0.1',
        }),
      ).toBe(0);
      expect(
        sampleValue(after, `warren_rpc_${side}_duration_seconds_bucket`, {
          service: SERVICE,
          method: 'Sleep',
          le: '0.25',
        }),
      ).toBe(1);
      expect(
        sampleValue(after, `warren_rpc_${side}_duration_seconds_sum`, { service: SERVICE, method: 'Sleep' }),
      ).toBeGreaterThanOrEqual(0.19);
    }
    // buckets are cumulative
    const buckets = after
      .filter(
        (sample) => sample.name === 'warren_rpc_server_duration_seconds_bucket' && sample.labels['method'] === 'Echo',
      )
      .map((sample) => sample.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  it('labels requests for methods the service lacks as _OTHER', async () => {
    const before = await value('warren_rpc_server_calls_total', {
      service: SERVICE,
      method: '_OTHER',
      code: 'UNIMPLEMENTED',
    });
    for (const method of ['Nope', 'AlsoNope']) {
      const reply = await transport.request(
        {
          service: SERVICE,
          method: `${SERVICE}/${method}`,
          contentType: PROTOBUF,
          body: new Uint8Array(),
          metadata: {},
          deadline: Date.now() + 5_000,
          messageId: method,
        },
        new AbortController().signal,
      );
      expect(reply.status).toBe(Code.UNIMPLEMENTED);
    }
    const after = await scrape();
    expect(
      sampleValue(after, 'warren_rpc_server_calls_total', {
        service: SERVICE,
        method: '_OTHER',
        code: 'UNIMPLEMENTED',
      }),
    ).toBe(before + 2);
    expect(after.some((sample) => sample.labels['method'] === 'Nope')).toBe(false);
  });

  it('counts retries by the code that caused them, and the call once', async () => {
    const client = createClient(TestServiceDefinition, transport, {
      metrics,
      retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 },
    });
    unavailableLeft = 2;
    await client.fail({ code: Code.UNAVAILABLE, message: 'flaky' });
    expect(
      await value('warren_rpc_client_retries_total', { service: SERVICE, method: 'Fail', code: 'UNAVAILABLE' }),
    ).toBe(2);
    expect(await value('warren_rpc_client_calls_total', { service: SERVICE, method: 'Fail', code: 'OK' })).toBe(1);
    expect(
      await value('warren_rpc_server_calls_total', { service: SERVICE, method: 'Fail', code: 'UNAVAILABLE' }),
    ).toBe(2);
  });

  it('records nothing for a client with metrics: false', async () => {
    const before = await value('warren_rpc_client_calls_total', { service: SERVICE, method: 'Echo', code: 'OK' });
    const quiet = createClient(TestServiceDefinition, transport, { metrics: false });
    await quiet.echo({ text: 'x' });
    expect(await value('warren_rpc_client_calls_total', { service: SERVICE, method: 'Echo', code: 'OK' })).toBe(before);
    expect(await value('warren_rpc_server_calls_total', { service: SERVICE, method: 'Echo', code: 'OK' })).toBe(
      before + 1,
    );
  });

  it('counts events published and handled by outcome, dead letters included', async () => {
    const bus = createEventBus({ transport, service: 'spec', metrics });
    let seen = 0;
    await bus.subscribe(
      OrderCreated,
      (order) => {
        seen++;
        if (order.orderId === 'bad') throw new RpcError(Code.INVALID_ARGUMENT, 'bad order');
      },
      { group: 'spec-orders' },
    );
    for (const id of ['a', 'b', 'c', 'bad']) await bus.publish(OrderCreated, { orderId: id });
    await expect(bus.publish(Tick, { run: 'r', seq: 1 })).rejects.toThrow(/no queue is bound/);
    const deadline = Date.now() + 5_000;
    while (seen < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const after = await scrape();
    await bus.close();
    expect(
      sampleValue(after, 'warren_events_published_total', { type: 'warren.test.v1.OrderCreated', code: 'OK' }),
    ).toBe(4);
    expect(
      sampleValue(after, 'warren_events_published_total', { type: 'warren.test.v1.Tick', code: 'FAILED_PRECONDITION' }),
    ).toBe(1);
    expect(
      sampleValue(after, 'warren_events_handled_total', {
        group: 'spec-orders',
        type: 'warren.test.v1.OrderCreated',
        outcome: 'ack',
      }),
    ).toBe(3);
    expect(
      sampleValue(after, 'warren_events_handled_total', {
        group: 'spec-orders',
        type: 'warren.test.v1.OrderCreated',
        outcome: 'dead',
      }),
    ).toBe(1);
    expect(
      sampleValue(after, 'warren_events_handler_duration_seconds_count', {
        group: 'spec-orders',
        type: 'warren.test.v1.OrderCreated',
      }),
    ).toBe(4);
    expect(
      sampleValue(after, 'warren_events_in_flight', { group: 'spec-orders', type: 'warren.test.v1.OrderCreated' }),
    ).toBe(0);
  });

  it('reads reconnections and the connection state of watched transports at scrape time', async () => {
    const stats = { reconnections: 2, lateReplies: 1, pending: 0 };
    const fake = { stats: () => stats, connected: true };
    metrics.watchTransport(fake);
    metrics.watchTransport(fake);
    expect(await value('warren_amqp_reconnections_total', {})).toBe(2);
    expect(await value('warren_amqp_connected', {})).toBe(1);
    stats.reconnections = 5;
    fake.connected = false;
    expect(await value('warren_amqp_reconnections_total', {})).toBe(5);
    expect(await value('warren_rpc_client_late_replies_total', {})).toBe(1);
    expect(await value('warren_amqp_connected', {})).toBe(0);
  });

  it('records breaker states and counts transitions', async () => {
    metrics.breakerState('payments', 'closed', false);
    metrics.breakerState('payments', 'open', true);
    expect(await value('warren_breaker_state', { dependency: 'payments' })).toBe(2);
    metrics.breakerState('payments', 'half-open', true);
    metrics.breakerState('payments', 'closed', true);
    const after = await scrape();
    expect(sampleValue(after, 'warren_breaker_state', { dependency: 'payments' })).toBe(0);
    expect(sampleValue(after, 'warren_breaker_transitions_total', { dependency: 'payments', state: 'open' })).toBe(1);
    expect(sampleValue(after, 'warren_breaker_transitions_total', { dependency: 'payments', state: 'closed' })).toBe(1);
  });

  it('refuses a second set in the same registry', () => {
    expect(() => createWarrenMetrics({ registry })).toThrow(/already been registered/);
  });
});

describe('parsePrometheusText', () => {
  it('reads names, escaped label values and special values', () => {
    const samples = parsePrometheusText(
      '# HELP x y\n# TYPE x counter\nx_total{a="1",b="q\\"u\\\\o\\nte"} 3\nup 1\nh_bucket{le="+Inf"} +Inf\nnan NaN\n',
    );
    expect(samples).toEqual([
      { name: 'x_total', labels: { a: '1', b: 'q"u\\o\nte' }, value: 3 },
      { name: 'up', labels: {}, value: 1 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: Infinity },
      { name: 'nan', labels: {}, value: NaN },
    ]);
    expect(() => parsePrometheusText('x{a="1" 2')).toThrow(/malformed/);
    expect(() => parsePrometheusText('x abc')).toThrow(/bad value/);
    expect(() => sampleValue(samples, 'x_total', {})).not.toThrow();
    expect(() => sampleValue([...samples, samples[0]!], 'x_total', { a: '1' })).toThrow(/name more labels/);
  });
});
