import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createClient,
  createLogger,
  createServer,
  createWarrenMetrics,
  RpcError,
  type WarrenMetrics,
} from '../core/index.js';
import { serviceQueue } from '../core/protocol/index.js';
import { type MetricSample, parsePrometheusText, sampleValue } from '../core/observability/prometheus-text.js';
import { InventoryServiceDefinition } from '../gen/shop/inventory/v1/inventory.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createBreaker } from '../core/index.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { runScript, type ChildScript } from './support/child-process.js';
import { createTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const INVENTORY = 'shop.inventory.v1.InventoryService';
const inventoryMain = fileURLToPath(new URL('../services/inventory/main.ts', import.meta.url));
const quiet = createLogger({ level: 'silent' });

async function until<T>(
  what: string,
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('metrics', () => {
  let vhost: TestVhost;
  beforeAll(async () => {
    vhost = await createTestVhost('metrics');
  });
  afterAll(async () => {
    await vhost?.remove();
  });

  // The inventory service as npm start runs it: its own process, /metrics on WARREN_METRICS_PORT.
  describe('a service process scraped over HTTP', () => {
    let child: ChildScript;
    let dataDir: string;
    let metricsUrl: string;
    let transport: AmqpTransport;
    let local: WarrenMetrics;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'warren-metrics-'));
      const catalog = join(dataDir, 'catalog.json');
      writeFileSync(
        catalog,
        JSON.stringify([{ sku: 'MUG', name: 'Mug', unitPriceCents: 1200, currencyCode: 'EUR', stock: 10 }]),
      );
      child = runScript(inventoryMain, {
        AMQP_URL: vhost.url,
        DATA_DIR: dataDir,
        INVENTORY_CATALOG: catalog,
        WARREN_METRICS_PORT: '0',
        WARREN_METRICS_HOST: '127.0.0.1',
        WARREN_QUEUE_SAMPLE_MS: '200',
        WARREN_LOG_LEVEL: 'info',
      });
      await child.waitFor(/^ready inventory$/, 45_000);
      const listening = JSON.parse(await child.waitFor(/"msg":"metrics listening"/)) as { port: number };
      metricsUrl = `http://127.0.0.1:${listening.port}/metrics`;
      transport = await connectAmqp({ url: vhost.url, logger: quiet });
      local = createWarrenMetrics({ registry: new Registry() });
    }, 60_000);
    afterAll(async () => {
      await transport?.close();
      child?.kill('SIGKILL');
      await child?.exited;
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    const scrape = async (): Promise<MetricSample[]> => {
      const response = await fetch(metricsUrl);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parsePrometheusText(await response.text());
    };

    it('counts exactly the calls made, by method and code, on the server and on the caller', async () => {
      const client = createClient(InventoryServiceDefinition, transport, { metrics: local });
      const before = await scrape();
      const server = (samples: MetricSample[], name: string, labels: Record<string, string>): number =>
        sampleValue(samples, name, { service: INVENTORY, ...labels }) ?? 0;
      for (let i = 0; i < 5; i++) expect((await client.getStock({ sku: 'MUG' })).stock?.available).toBe(10);
      for (let i = 0; i < 3; i++)
        await expect(client.getStock({ sku: 'NOPE' })).rejects.toMatchObject({ code: Code.NOT_FOUND });
      const after = await scrape();

      expect(
        server(after, 'warren_rpc_server_calls_total', { method: 'GetStock', code: 'OK' }) -
          server(before, 'warren_rpc_server_calls_total', { method: 'GetStock', code: 'OK' }),
      ).toBe(5);
      expect(
        server(after, 'warren_rpc_server_calls_total', { method: 'GetStock', code: 'NOT_FOUND' }) -
          server(before, 'warren_rpc_server_calls_total', { method: 'GetStock', code: 'NOT_FOUND' }),
      ).toBe(3);
      expect(
        server(after, 'warren_rpc_server_duration_seconds_count', { method: 'GetStock' }) -
          server(before, 'warren_rpc_server_duration_seconds_count', { method: 'GetStock' }),
      ).toBe(8);
      expect(server(after, 'warren_rpc_server_in_flight_calls', { method: 'GetStock' })).toBe(0);

      const mine = parsePrometheusText(await local.registry.metrics());
      expect(
        sampleValue(mine, 'warren_rpc_client_calls_total', { service: INVENTORY, method: 'GetStock', code: 'OK' }),
      ).toBe(5);
      expect(
        sampleValue(mine, 'warren_rpc_client_calls_total', {
          service: INVENTORY,
          method: 'GetStock',
          code: 'NOT_FOUND',
        }),
      ).toBe(3);
      expect(
        sampleValue(mine, 'warren_rpc_client_duration_seconds_count', { service: INVENTORY, method: 'GetStock' }),
      ).toBe(8);
    });

    it('exports the queue sample, the connection state and the process metrics', async () => {
      const samples = await until(
        'queue sampled',
        scrape,
        (found) => sampleValue(found, 'warren_queue_consumers', { queue: serviceQueue(INVENTORY) }) === 1,
      );
      expect(sampleValue(samples, 'warren_queue_messages', { queue: serviceQueue(INVENTORY) })).toBe(0);
      expect(sampleValue(samples, 'warren_amqp_connected')).toBe(1);
      expect(sampleValue(samples, 'warren_amqp_reconnections_total')).toBe(0);
      expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
      const text = await (await fetch(metricsUrl)).text();
      expect(text).toContain('# TYPE warren_rpc_server_calls_total counter');
      expect(text).toContain('# TYPE warren_rpc_server_duration_seconds histogram');
      expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
    });
  });

  describe('in this process, over the real broker', () => {
    const metrics = createWarrenMetrics({ registry: new Registry(), queueSampleIntervalMs: 100 });
    const scrape = async (): Promise<MetricSample[]> => parsePrometheusText(await metrics.registry.metrics());

    it('samples the depth of a busy service queue', async () => {
      const transport = await connectAmqp({ url: vhost.url, logger: quiet });
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const server = createServer({ transport, prefetch: 1, metrics, logger: quiet }).add(TestServiceDefinition, {
        echo: (request) => ({ text: request.text }),
        async sleep() {
          await gate;
          return {};
        },
        fail: () => ({}),
        increment: () => ({}),
        relay: () => ({}),
      });
      await server.start();
      const client = createClient(TestServiceDefinition, transport, { metrics: false });
      const calls = Array.from({ length: 5 }, () => client.sleep({ millis: 1 }, { timeoutMs: 20_000 }));
      const queue = serviceQueue('warren.test.v1.TestService');
      // prefetch 1: one request with the handler, four waiting in the queue
      const busy = await until(
        'four requests queued',
        scrape,
        (found) => sampleValue(found, 'warren_queue_messages', { queue }) === 4,
      );
      expect(sampleValue(busy, 'warren_queue_consumers', { queue })).toBe(1);
      expect(
        sampleValue(busy, 'warren_rpc_server_in_flight_calls', {
          service: 'warren.test.v1.TestService',
          method: 'Sleep',
        }),
      ).toBe(1);
      release();
      await Promise.all(calls);
      await until('queue drained', scrape, (found) => sampleValue(found, 'warren_queue_messages', { queue }) === 0);
      await server.close();
      await transport.close();
    });

    it('counts reconnections of a transport whose connection was cut', async () => {
      const proxy: TcpProxy = createTcpProxy();
      await proxy.start(Number(new URL(vhost.url).port || 5672));
      const url = new URL(vhost.url);
      url.port = String(proxy.port);
      const transport = await connectAmqp({
        url: url.toString(),
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        logger: quiet,
      });
      try {
        metrics.watchTransport(transport);
        const before = sampleValue(await scrape(), 'warren_amqp_reconnections_total') ?? 0;
        proxy.cut();
        await until(
          'reconnected',
          () => transport.stats().reconnections,
          (count) => count === 1,
        );
        const after = await until(
          'connected again',
          scrape,
          (found) => sampleValue(found, 'warren_amqp_connected') === 1,
        );
        expect(sampleValue(after, 'warren_amqp_reconnections_total')).toBe(before + 1);
      } finally {
        await transport.close();
        await proxy.close();
      }
    });

    it('exports the state changes of a service-to-service breaker', async () => {
      const breaker = createBreaker(
        'payments',
        { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 200, metrics },
        quiet,
      );
      const failing = (): Promise<never> => Promise.reject(new RpcError(Code.UNAVAILABLE, 'down'));
      expect(sampleValue(await scrape(), 'warren_breaker_state', { dependency: 'payments' })).toBe(0);
      for (let i = 0; i < 3; i++) await breaker.run(failing).catch(() => undefined);
      expect(breaker.state).toBe('open');
      const open = await scrape();
      expect(sampleValue(open, 'warren_breaker_state', { dependency: 'payments' })).toBe(2);
      expect(sampleValue(open, 'warren_breaker_transitions_total', { dependency: 'payments', state: 'open' })).toBe(1);
      await until(
        'half-open',
        () => breaker.state,
        (state) => state === 'half-open',
        5_000,
      );
      await breaker.run(() => Promise.resolve('ok'));
      const closed = await scrape();
      breaker.shutdown();
      expect(sampleValue(closed, 'warren_breaker_state', { dependency: 'payments' })).toBe(0);
      expect(
        sampleValue(closed, 'warren_breaker_transitions_total', { dependency: 'payments', state: 'half-open' }),
      ).toBe(1);
      expect(sampleValue(closed, 'warren_breaker_transitions_total', { dependency: 'payments', state: 'closed' })).toBe(
        1,
      );
    });
  });
});
