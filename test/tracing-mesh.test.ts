import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderBody, startMesh, waitUntil, type Mesh } from './support/mesh.js';

/** A span as an OTLP/HTTP JSON export carries it, with the exporting process's `service.name`. */
interface ExportedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP numbering: 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** 0 unset, 1 ok, 2 error. */
  readonly status: number;
  readonly attributes: Record<string, string | number | boolean>;
}

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
const valueOf = (value: AnyValue): string | number | boolean =>
  value.stringValue ??
  (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue ?? ''));
const attributesOf = (list: { key: string; value: AnyValue }[] = []): Record<string, string | number | boolean> =>
  Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));

/**
 * An OTLP/HTTP (JSON) trace receiver, standing in for a collector or Jaeger:
 * the mesh's processes export to it exactly as they would in production,
 * configured only by the standard OTEL_* variables.
 */
async function startReceiver(): Promise<{ server: Server; port: number; spans: ExportedSpan[] }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (request.url === '/v1/traces' && request.method === 'POST') {
        const payload = JSON.parse(body.toString('utf8')) as { resourceSpans?: any[] };
        for (const resourceSpans of payload.resourceSpans ?? []) {
          const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) {
              spans.push({
                service,
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? '',
                name: span.name,
                kind: span.kind,
                status: span.status?.code ?? 0,
                attributes: attributesOf(span.attributes),
              });
            }
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, spans };
}

// One order's trace across the example mesh, every service a real process exporting over OTLP.
describe('tracing across the example mesh', () => {
  let mesh: Mesh;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const saved: Record<string, string | undefined> = {};
  const otelEnv = (port: number): Record<string, string> => ({
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });

  beforeAll(async () => {
    receiver = await startReceiver();
    // the mesh's children inherit this process's environment
    for (const [key, value] of Object.entries(otelEnv(receiver.port))) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
    mesh = await startMesh('tracing-mesh', {
      catalog: [{ sku: 'MUG', name: 'Mug', unitPriceCents: 1200, currencyCode: 'EUR', stock: 50 }],
    });
  }, 120_000);
  afterAll(async () => {
    await mesh?.close();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await new Promise((resolve) => receiver?.server.close(resolve));
  });

  /** Places an order under a trace id of our own, as an HTTP client that traces would. */
  const placeOrder = async (
    requestId: string,
    token?: string,
  ): Promise<{ traceId: string; rootSpanId: string; status: number }> => {
    const traceId = randomBytes(16).toString('hex');
    const rootSpanId = randomBytes(8).toString('hex');
    const answer = await mesh.request(
      'POST',
      '/v1/orders',
      orderBody(requestId, 'ada', [{ sku: 'MUG', quantity: 1 }], token),
      { traceparent: `00-${traceId}-${rootSpanId}-01` },
    );
    return { traceId, rootSpanId, status: answer.status };
  };
  const traceOf = (traceId: string): ExportedSpan[] => receiver.spans.filter((span) => span.traceId === traceId);
  const find = (spans: ExportedSpan[], service: string, kind: number, name: string): ExportedSpan => {
    const found = spans.filter((span) => span.service === service && span.kind === kind && span.name === name);
    expect(
      found,
      `${service} kind ${kind} ${name} among ${spans.map((span) => `${span.service}:${span.kind}:${span.name}`).join(', ')}`,
    ).toHaveLength(1);
    return found[0]!;
  };
  /** True once every `service kind name` listed was exported (processes export in their own batches). */
  const hasAll = (spans: ExportedSpan[], expected: readonly (readonly [string, number, string])[]): boolean =>
    expected.every(([service, kind, name]) =>
      spans.some((span) => span.service === service && span.kind === kind && span.name === name),
    );
  const childrenOf = (spans: ExportedSpan[], parent: ExportedSpan): ExportedSpan[] =>
    spans.filter((span) => span.parentSpanId === parent.spanId);
  /** Every span's parent is in the trace (or is the caller's own span): nothing is detached. */
  const expectConnected = (spans: ExportedSpan[], rootSpanId: string): void => {
    const ids = new Set(spans.map((span) => span.spanId));
    for (const span of spans)
      expect(
        span.parentSpanId === rootSpanId || ids.has(span.parentSpanId),
        `${span.service} ${span.name} has a parent in the trace`,
      ).toBe(true);
  };

  it('follows a paid order from the HTTP request to the last event handler', async () => {
    const { traceId, rootSpanId, status } = await placeOrder('trace-paid');
    expect(status).toBe(200);
    const expected = [
      ['gateway', SERVER, 'POST /v1/orders'],
      ['inventory', SERVER, 'shop.inventory.v1.InventoryService/Reserve'],
      ['payments', SERVER, 'shop.payments.v1.PaymentService/Charge'],
      // 2 events (created, paid), each handled by notifications and analytics
      ...['notifications', 'analytics'].flatMap((service) =>
        ['OrderCreated', 'OrderPaid'].map((type) => [service, CONSUMER, `process shop.orders.v1.${type}`] as const),
      ),
    ] as const;
    const spans = await waitUntil(
      'the whole trace exported',
      async () => traceOf(traceId),
      (found) => hasAll(found, expected),
      30_000,
    );

    const http = find(spans, 'gateway', SERVER, 'POST /v1/orders');
    expect(http.parentSpanId).toBe(rootSpanId);
    expect(http.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/orders',
      'http.response.status_code': 200,
    });
    const call = find(spans, 'gateway', CLIENT, 'shop.orders.v1.OrderService/CreateOrder');
    expect(call.parentSpanId).toBe(http.spanId);
    const create = find(spans, 'orders', SERVER, 'shop.orders.v1.OrderService/CreateOrder');
    expect(create.parentSpanId).toBe(call.spanId);
    expect(create.attributes).toMatchObject({
      'rpc.system': 'warren',
      'rpc.service': 'shop.orders.v1.OrderService',
      'rpc.method': 'CreateOrder',
      'rpc.warren.status_code': 0,
    });

    const reserveCall = find(spans, 'orders', CLIENT, 'shop.inventory.v1.InventoryService/Reserve');
    const chargeCall = find(spans, 'orders', CLIENT, 'shop.payments.v1.PaymentService/Charge');
    expect([reserveCall.parentSpanId, chargeCall.parentSpanId]).toEqual([create.spanId, create.spanId]);
    expect(find(spans, 'inventory', SERVER, 'shop.inventory.v1.InventoryService/Reserve').parentSpanId).toBe(
      reserveCall.spanId,
    );
    expect(find(spans, 'payments', SERVER, 'shop.payments.v1.PaymentService/Charge').parentSpanId).toBe(
      chargeCall.spanId,
    );

    // events go out through the outbox after the commit, still children of the handler that made them
    for (const type of ['OrderCreated', 'OrderPaid']) {
      const publish = find(spans, 'orders', PRODUCER, `publish shop.orders.v1.${type}`);
      expect(publish.parentSpanId).toBe(create.spanId);
      expect(publish.attributes).toMatchObject({
        'messaging.system': 'rabbitmq',
        'messaging.destination.name': 'warren.events',
        'messaging.rabbitmq.destination.routing_key': `shop.orders.v1.${type}`,
      });
      const handlers = childrenOf(spans, publish);
      expect(
        handlers
          .map(
            (span) => `${span.service} ${span.kind} ${span.name} ${span.attributes['messaging.consumer.group.name']}`,
          )
          .sort(),
      ).toEqual([
        `analytics ${CONSUMER} process shop.orders.v1.${type} analytics`,
        `notifications ${CONSUMER} process shop.orders.v1.${type} notifications`,
      ]);
      for (const handler of handlers)
        expect(handler.attributes['messaging.message.id']).toBe(publish.attributes['messaging.message.id']);
    }

    for (const span of spans) expect(span.status, `${span.service} ${span.name}`).toBe(0);
    expectConnected(spans, rootSpanId);
  });

  it('marks a declined payment an error for callers, not for the services that answered it', async () => {
    const { traceId, rootSpanId, status } = await placeOrder('trace-declined', 'tok_decline');
    expect(status).toBe(400);
    const expected = [
      ['gateway', SERVER, 'POST /v1/orders'],
      ['payments', SERVER, 'shop.payments.v1.PaymentService/Charge'],
      ['inventory', SERVER, 'shop.inventory.v1.InventoryService/Release'],
      ...['notifications', 'analytics'].flatMap((service) =>
        ['OrderCreated', 'OrderFailed'].map((type) => [service, CONSUMER, `process shop.orders.v1.${type}`] as const),
      ),
    ] as const;
    const spans = await waitUntil(
      'the declined order traced',
      async () => traceOf(traceId),
      (found) => hasAll(found, expected),
      30_000,
    );

    const charge = find(spans, 'payments', SERVER, 'shop.payments.v1.PaymentService/Charge');
    expect(charge).toMatchObject({
      status: 0,
      attributes: expect.objectContaining({ 'rpc.warren.status_code': 9, 'error.type': 'FAILED_PRECONDITION' }),
    });
    expect(find(spans, 'orders', CLIENT, 'shop.payments.v1.PaymentService/Charge').status).toBe(2);
    expect(find(spans, 'orders', SERVER, 'shop.orders.v1.OrderService/CreateOrder')).toMatchObject({
      status: 0,
      attributes: expect.objectContaining({ 'rpc.warren.status_code': 9 }),
    });
    expect(find(spans, 'gateway', CLIENT, 'shop.orders.v1.OrderService/CreateOrder').status).toBe(2);
    expect(find(spans, 'gateway', SERVER, 'POST /v1/orders')).toMatchObject({
      status: 0,
      attributes: expect.objectContaining({ 'http.response.status_code': 400 }),
    });
    // the compensation (stock released) is part of the same trace
    expect(find(spans, 'inventory', SERVER, 'shop.inventory.v1.InventoryService/Release').status).toBe(0);
    expect(
      spans
        .filter((span) => span.kind === PRODUCER)
        .map((span) => span.name)
        .sort(),
    ).toEqual(['publish shop.orders.v1.OrderCreated', 'publish shop.orders.v1.OrderFailed']);
    expectConnected(spans, rootSpanId);
  });

  it('marks server faults errors on the server side too (payments down)', async () => {
    await mesh.stop('payments');
    const { traceId, status } = await placeOrder('trace-down');
    expect(status).toBe(503);
    const spans = await waitUntil(
      'the failed order traced',
      async () => traceOf(traceId),
      (found) =>
        hasAll(found, [
          ['gateway', SERVER, 'POST /v1/orders'],
          ['orders', SERVER, 'shop.orders.v1.OrderService/CreateOrder'],
        ]),
      30_000,
    );
    const charge = find(spans, 'orders', CLIENT, 'shop.payments.v1.PaymentService/Charge');
    expect(charge).toMatchObject({
      status: 2,
      attributes: expect.objectContaining({ 'rpc.warren.status_code': 4, 'error.type': 'DEADLINE_EXCEEDED' }),
    });
    expect(find(spans, 'orders', SERVER, 'shop.orders.v1.OrderService/CreateOrder')).toMatchObject({
      status: 2,
      attributes: expect.objectContaining({ 'rpc.warren.status_code': 14 }),
    });
    expect(find(spans, 'gateway', SERVER, 'POST /v1/orders')).toMatchObject({
      status: 2,
      attributes: expect.objectContaining({ 'http.response.status_code': 503 }),
    });
  }, 60_000);
});
