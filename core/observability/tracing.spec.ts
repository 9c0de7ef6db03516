import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { OrderCreated } from '../../gen/warren/test/v1/test_events.js';
import {
  createClient,
  createEventBus,
  createMemoryTransport,
  createServer,
  RpcError,
  type ServiceImplementation,
  type Transport,
} from '../index.js';
import { runInTraceContextOf, withActiveTraceContext } from '../tooling.js';
import { tracingEnabled } from './tracing.js';

const ECHO = 'warren.test.v1.TestService/Echo';
const RELAY = 'warren.test.v1.TestService/Relay';
const FAIL = 'warren.test.v1.TestService/Fail';

/** A TestService whose Relay calls Echo and publishes OrderCreated; Echo reports the metadata it got. */
function implementation(
  transport: Transport,
  events: ReturnType<typeof createEventBus>,
): ServiceImplementation<typeof TestServiceDefinition> {
  const client = createClient(TestServiceDefinition, transport);
  return {
    echo: (request, ctx) => ({ text: request.text, metadata: ctx.metadata }),
    sleep: () => ({}),
    fail(request) {
      if (request.plainError) throw new Error('a bug');
      throw new RpcError(request.code, request.message);
    },
    increment: () => ({}),
    async relay(request) {
      const echoed = await client.echo({ text: request.text });
      await events.publish(OrderCreated, { orderId: request.text });
      return { echoed };
    },
  };
}

async function stack() {
  const transport = createMemoryTransport();
  const events = createEventBus({ transport, service: 'spec' });
  const server = createServer({ transport }).add(TestServiceDefinition, implementation(transport, events));
  await server.start();
  const client = createClient(TestServiceDefinition, transport, { retry: false });
  return {
    transport,
    events,
    client,
    async close() {
      await events.close();
      await server.close();
      await transport.close();
    },
  };
}

describe('tracing without an SDK', () => {
  it('makes no spans and passes traceparent through untouched', async () => {
    expect(tracingEnabled()).toBe(false);
    const { client, close } = await stack();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const reply = await client.echo({ text: 'x' }, { metadata: { traceparent, tracestate: 'k=v' } });
    expect(reply.metadata).toMatchObject({ traceparent, tracestate: 'k=v' });
    expect(withActiveTraceContext({ a: 'b' })).toEqual({ a: 'b' });
    expect(runInTraceContextOf({ traceparent }, () => trace.getActiveSpan())).toBeUndefined();
    await close();
  });
});

describe('tracing with an SDK (in-memory exporter, memory transport)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let env: Awaited<ReturnType<typeof stack>>;

  beforeAll(async () => {
    provider.register();
    env = await stack();
  });
  afterAll(async () => {
    await env.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  afterEach(() => exporter.reset());

  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const one = (name: string, kind: SpanKind, list = spans()): ReadableSpan => {
    const found = list.filter((span) => span.name === name && span.kind === kind);
    expect(
      found,
      `${SpanKind[kind]} ${name} in ${list.map((span) => `${SpanKind[span.kind]} ${span.name}`).join(', ')}`,
    ).toHaveLength(1);
    return found[0]!;
  };
  const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
  const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
  const waitForSpan = async (predicate: (span: ReadableSpan) => boolean): Promise<ReadableSpan> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const found = spans().find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(
          `no such span; have ${spans()
            .map((span) => span.name)
            .join(', ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('links client → server → nested call and publish → handler → its call into one trace', async () => {
    expect(tracingEnabled()).toBe(true);
    let handlerCall: Promise<unknown> | undefined;
    const subscriber = createEventBus({ transport: env.transport, service: 'listener' });
    const echo = createClient(TestServiceDefinition, env.transport);
    await subscriber.subscribe(
      OrderCreated,
      (order) => {
        handlerCall = echo.echo({ text: `handled ${order.orderId}` });
        return handlerCall;
      },
      { group: 'spec-listener' },
    );

    const root = trace.getTracer('spec').startSpan('test root');
    const reply = await context.with(trace.setSpan(context.active(), root), () => env.client.relay({ text: 'o-1' }));
    root.end();
    const consumer = await waitForSpan((span) => span.kind === SpanKind.CONSUMER);
    await handlerCall;
    await waitForSpan(
      (span) =>
        span.kind === SpanKind.SERVER &&
        span.parentSpanContext?.spanId !== undefined &&
        spans().some(
          (client) => idOf(client) === span.parentSpanContext!.spanId && parentOf(client) === idOf(consumer),
        ),
    );
    await subscriber.close();

    const all = spans();
    expect(new Set(all.map((span) => span.spanContext().traceId))).toEqual(new Set([root.spanContext().traceId]));
    const clientRelay = one(RELAY, SpanKind.CLIENT, all);
    const serverRelay = one(RELAY, SpanKind.SERVER, all);
    const producer = one('publish warren.test.v1.OrderCreated', SpanKind.PRODUCER, all);
    const echoClients = all.filter((span) => span.name === ECHO && span.kind === SpanKind.CLIENT);
    const echoServers = all.filter((span) => span.name === ECHO && span.kind === SpanKind.SERVER);
    expect(echoClients).toHaveLength(2);
    expect(echoServers).toHaveLength(2);

    expect(parentOf(clientRelay)).toBe(root.spanContext().spanId);
    expect(parentOf(serverRelay)).toBe(idOf(clientRelay));
    const relayEcho = echoClients.find((span) => parentOf(span) === idOf(serverRelay))!;
    expect(relayEcho).toBeDefined();
    expect(parentOf(producer)).toBe(idOf(serverRelay));
    expect(parentOf(consumer)).toBe(idOf(producer));
    const handlerEcho = echoClients.find((span) => parentOf(span) === idOf(consumer))!;
    expect(handlerEcho).toBeDefined();
    expect(echoServers.map(parentOf)).toContain(idOf(handlerEcho));

    // the nested call carried its client span's context on the wire; the handler's metadata names its server span
    const relayEchoServer = echoServers.find((span) => parentOf(span) === idOf(relayEcho))!;
    expect(reply.echoed?.metadata['traceparent']).toBe(`00-${root.spanContext().traceId}-${idOf(relayEchoServer)}-01`);

    expect(clientRelay.attributes).toMatchObject({
      'rpc.system': 'warren',
      'rpc.service': 'warren.test.v1.TestService',
      'rpc.method': 'Relay',
      'rpc.warren.status_code': 0,
    });
    expect(serverRelay.attributes).toMatchObject({
      'rpc.system': 'warren',
      'rpc.service': 'warren.test.v1.TestService',
      'rpc.method': 'Relay',
      'rpc.warren.status_code': 0,
    });
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'warren.events',
      'messaging.rabbitmq.destination.routing_key': 'warren.test.v1.OrderCreated',
      'messaging.operation.type': 'send',
    });
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': 'spec-listener',
      'warren.attempt': 1,
    });
    expect(consumer.attributes['messaging.message.id']).toBe(producer.attributes['messaging.message.id']);
    for (const span of all) expect(span.status.code, span.name).toBe(SpanStatusCode.UNSET);
  });

  it('marks errors: every failure on the client, only server faults on the server', async () => {
    await expect(env.client.fail({ code: 5, message: 'no such thing' })).rejects.toThrow(/no such thing/);
    const notFound = spans();
    expect(one(FAIL, SpanKind.CLIENT, notFound).status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'NOT_FOUND: no such thing',
    });
    expect(one(FAIL, SpanKind.CLIENT, notFound).attributes).toMatchObject({
      'rpc.warren.status_code': 5,
      'error.type': 'NOT_FOUND',
    });
    expect(one(FAIL, SpanKind.SERVER, notFound).status.code).toBe(SpanStatusCode.UNSET);
    expect(one(FAIL, SpanKind.SERVER, notFound).attributes).toMatchObject({
      'rpc.warren.status_code': 5,
      'error.type': 'NOT_FOUND',
    });
    exporter.reset();

    await expect(env.client.fail({ plainError: true })).rejects.toThrow(/internal error/);
    const internal = spans();
    expect(one(FAIL, SpanKind.SERVER, internal).status.code).toBe(SpanStatusCode.ERROR);
    expect(one(FAIL, SpanKind.SERVER, internal).attributes['rpc.warren.status_code']).toBe(13);
    expect(one(FAIL, SpanKind.CLIENT, internal).status.code).toBe(SpanStatusCode.ERROR);
    exporter.reset();

    await expect(env.client.fail({ code: 14, message: 'down' })).rejects.toThrow(/down/);
    expect(one(FAIL, SpanKind.SERVER).status.code).toBe(SpanStatusCode.ERROR);
  });

  it('marks a failed handler attempt ERROR on its CONSUMER span', async () => {
    const subscriber = createEventBus({ transport: env.transport, service: 'failing' });
    await subscriber.subscribe(
      OrderCreated,
      () => {
        throw new RpcError(3, 'malformed order');
      },
      { group: 'spec-failing' },
    );
    await env.events.publish(OrderCreated, { orderId: 'bad' });
    const consumer = await waitForSpan((span) => span.kind === SpanKind.CONSUMER);
    await subscriber.close();
    expect(consumer.status).toEqual({ code: SpanStatusCode.ERROR, message: '[INVALID_ARGUMENT] malformed order' });
    expect(consumer.attributes['warren.outcome']).toBe('dead');
    expect(consumer.attributes['error.type']).toBe('INVALID_ARGUMENT');
    expect(parentOf(consumer)).toBe(idOf(one('publish warren.test.v1.OrderCreated', SpanKind.PRODUCER)));
  });

  it('keeps a trace across an outbox: saved context, resumed later', async () => {
    const root = trace.getTracer('spec').startSpan('saving');
    const saved = context.with(trace.setSpan(context.active(), root), () =>
      withActiveTraceContext({ 'request-id': 'r-1' }),
    );
    root.end();
    expect(saved['traceparent']).toBe(`00-${root.spanContext().traceId}-${root.spanContext().spanId}-01`);
    const subscriber = createEventBus({ transport: env.transport, service: 'outbox' });
    await subscriber.subscribe(OrderCreated, () => undefined, { group: 'spec-outbox' });
    await runInTraceContextOf(saved, () => env.events.publish(OrderCreated, { orderId: 'later' }, { parent: null }));
    await waitForSpan((span) => span.kind === SpanKind.CONSUMER);
    await subscriber.close();
    expect(parentOf(one('publish warren.test.v1.OrderCreated', SpanKind.PRODUCER))).toBe(root.spanContext().spanId);
  });

  it('keeps the parentage through handler metadata when no context manager carries spans across await', async () => {
    context.disable();
    try {
      const root = trace.getTracer('spec').startSpan('no context manager');
      await env.client.relay(
        { text: 'o-2' },
        { metadata: { traceparent: `00-${root.spanContext().traceId}-${root.spanContext().spanId}-01` } },
      );
      root.end();
      const all = spans();
      const serverRelay = one(RELAY, SpanKind.SERVER, all);
      expect(parentOf(one(RELAY, SpanKind.CLIENT, all))).toBe(root.spanContext().spanId);
      expect(parentOf(one(ECHO, SpanKind.CLIENT, all))).toBe(idOf(serverRelay));
      expect(parentOf(one('publish warren.test.v1.OrderCreated', SpanKind.PRODUCER, all))).toBe(idOf(serverRelay));
    } finally {
      provider.register();
    }
  });
});
