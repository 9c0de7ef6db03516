import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createClient,
  createEventBus,
  createLogger,
  createServer,
  type EventBus,
  type Logger,
  RpcError,
  type Server,
} from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { OrderCreated } from '../gen/warren/test/v1/test_events.js';
import { createTestVhost, type TestVhost } from './support/broker.js';

type Line = Record<string, any>;

/** A logger whose JSON lines land in `lines`; without `level`, WARREN_LOG_LEVEL decides. */
function capture(level?: string): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const destination = { write: (text: string) => void lines.push(JSON.parse(text) as Line) };
  return { logger: createLogger({ destination, ...(level === undefined ? {} : { level }) }), lines };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Logs of a Warren process with tracing on, over the real broker: what an operator greps for.
describe('structured logs', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const { logger: root, lines } = capture('debug');
  const logger = root.child({ service: 'logs-test' });
  let vhost: TestVhost;
  let transport: AmqpTransport;
  let server: Server;
  let events: EventBus;

  beforeAll(async () => {
    provider.register();
    vhost = await createTestVhost('logs');
    transport = await connectAmqp({ url: vhost.url, logger });
    server = createServer({ transport, logger, instance: 'logs-1' }).add(TestServiceDefinition, {
      echo: (request) => ({ text: request.text }),
      sleep: () => ({}),
      fail(request) {
        // a handler's own lines carry the request id and the trace by themselves
        logger.info({ step: 'charging' }, 'handler about to fail');
        if (request.plainError) throw new Error(`secret internal detail: ${request.message}`);
        throw new RpcError(request.code, request.message);
      },
      increment: () => ({}),
      relay: () => ({}),
    });
    await server.start();
    events = createEventBus({ transport, service: 'logs-test', logger });
  });
  afterAll(async () => {
    await events?.close();
    await server?.close();
    await transport?.close();
    await vhost?.remove();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  const spanNamed = (name: string, kind: SpanKind): ReadableSpan | undefined =>
    exporter.getFinishedSpans().find((span) => span.name === name && span.kind === kind);

  it('logs a handler error once, with service, method, message and request ids, instance, the cause and the trace', async () => {
    const client = createClient(TestServiceDefinition, transport, { retry: false });
    const error = await client
      .fail({ plainError: true, message: 'password=hunter2' }, { metadata: { 'request-id': 'req-42' } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(Code.INTERNAL);
    expect((error as RpcError).rawMessage).toBe('internal error');

    const failed = lines.filter((line) => line['msg'] === 'handler failed; INTERNAL sent to the caller');
    expect(failed).toHaveLength(1);
    const line = failed[0]!;
    const serverSpan = await until('server span', () => spanNamed('warren.test.v1.TestService/Fail', SpanKind.SERVER));
    const clientSpan = spanNamed('warren.test.v1.TestService/Fail', SpanKind.CLIENT)!;
    expect(line).toMatchObject({
      level: 50,
      name: 'warren',
      service: 'logs-test',
      instance: 'logs-1',
      method: 'warren.test.v1.TestService/Fail',
      requestId: 'req-42',
      messageId: serverSpan.attributes['warren.message_id'],
      trace_id: serverSpan.spanContext().traceId,
      span_id: serverSpan.spanContext().spanId,
    });
    expect(line['err']).toMatchObject({ type: 'Error', message: 'secret internal detail: password=hunter2' });
    const own = lines.find((candidate) => candidate['msg'] === 'handler about to fail')!;
    expect(own).toMatchObject({
      level: 30,
      service: 'logs-test',
      step: 'charging',
      requestId: 'req-42',
      trace_id: line['trace_id'],
      span_id: line['span_id'],
    });
    expect(line['err'].stack).toContain('logs-handler-error.test.ts');
    // the caller's span is in the same trace, one hop up
    expect(clientSpan.spanContext().traceId).toBe(line['trace_id']);
    expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
  });

  it('logs a failed event handler with its trace, and the dead letter it became', async () => {
    await events.subscribe(
      OrderCreated,
      (order) => {
        throw new RpcError(Code.INVALID_ARGUMENT, `order ${order.orderId} has no items`);
      },
      { group: 'logs-orders' },
    );
    const messageId = await events.publish(OrderCreated, { orderId: 'o-7' }, { metadata: { 'request-id': 'req-43' } });
    const failed = await until('handler failure line', () =>
      lines.find((line) => line['msg'] === 'event handler failed' && line['messageId'] === messageId),
    );
    const consumer = await until('consumer span', () =>
      spanNamed('process warren.test.v1.OrderCreated', SpanKind.CONSUMER),
    );
    expect(failed).toMatchObject({
      level: 40,
      service: 'logs-test',
      group: 'logs-orders',
      type: 'warren.test.v1.OrderCreated',
      attempt: 1,
      outcome: 'dead',
      requestId: 'req-43',
      trace_id: consumer.spanContext().traceId,
      span_id: consumer.spanContext().spanId,
    });
    expect(failed['err']).toMatchObject({ message: '[INVALID_ARGUMENT] order o-7 has no items' });
    const dead = await until('dead-letter line', () =>
      lines.find((line) => line['msg'] === 'event dead-lettered' && line['messageId'] === messageId),
    );
    expect(dead).toMatchObject({
      level: 40,
      queue: 'events.logs-orders',
      reason: '[INVALID_ARGUMENT] order o-7 has no items',
    });
  });

  it('logs the connection and the server start with the broker password redacted, and no trace ids outside spans', () => {
    const connected = lines.find((line) => line['msg'] === 'connected to broker')!;
    expect(connected).toBeDefined();
    expect(connected['url']).toContain('guest:***@');
    expect(JSON.stringify(connected)).not.toContain('guest:guest');
    expect(connected['trace_id']).toBeUndefined();
    const started = lines.find((line) => line['msg'] === 'server started')!;
    expect(started).toMatchObject({
      level: 30,
      instance: 'logs-1',
      services: ['warren.test.v1.TestService'],
      transport: 'amqp',
    });
  });

  it('redacts secrets anywhere in a logged object and honours the level', () => {
    const { logger: plain, lines: out } = capture('info');
    plain.info(
      {
        url: 'amqp://svc:s3cret@broker:5672/vh',
        password: 'p',
        metadata: { authorization: 'Bearer abc', 'request-id': 'r-1' },
        options: { token: 't' },
      },
      'settings',
    );
    plain.debug({}, 'too detailed');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      url: 'amqp://svc:***@broker:5672/vh',
      password: '[redacted]',
      metadata: { authorization: '[redacted]', 'request-id': 'r-1' },
      options: { token: '[redacted]' },
    });
    expect(JSON.stringify(out)).not.toMatch(/s3cret|Bearer abc/);

    const previous = process.env['WARREN_LOG_LEVEL'];
    process.env['WARREN_LOG_LEVEL'] = 'error';
    try {
      const { logger: fromEnv, lines: kept } = capture();
      fromEnv.warn({}, 'dropped');
      fromEnv.error({}, 'kept');
      expect(kept.map((line) => line['msg'])).toEqual(['kept']);
    } finally {
      if (previous === undefined) delete process.env['WARREN_LOG_LEVEL'];
      else process.env['WARREN_LOG_LEVEL'] = previous;
    }
  });
});
