/**
 * Per-call cost of each observability layer in isolation (no transport, no
 * codec): the layer around a `next` that answers at once, minus the bare
 * `next`. CPU ns per call, best of several rounds (robust on a busy machine).
 *
 *   npx tsx bench/observability-micro.ts [--iterations 200000] [--rounds 7]
 */
import { Registry } from 'prom-client';
import { Code, type Delivery, PROTOBUF, type UnaryCall, type UnaryResult, type WireReply } from '../core/index.js';
import { describeService } from '../core/protocol/index.js';
import { createWarrenMetrics } from '../core/index.js';
import { clientMetricsInterceptor, clientTracingInterceptor } from '../core/tooling.js';
import { observeDispatch } from '../core/observability/server-observer.js';
import { observeDeliveries, publishMetricsInterceptor } from '../core/observability/event-observer.js';
import { publishTracingInterceptor } from '../core/tooling.js';
import { type EventCall } from '../core/index.js';
import { type EventDelivery, type EventOutcome } from '../core/event-transport.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number =>
  args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback;
const iterations = flag('iterations', 200_000);
const rounds = flag('rounds', 7);

const method = describeService(TestServiceDefinition).find((info) => info.localName === 'echo')!;
const call: UnaryCall = {
  side: 'client',
  method,
  request: {},
  metadata: { 'request-id': 'r-1' },
  deadline: Date.now() + 60_000,
  signal: new AbortController().signal,
};
const result: UnaryResult = { response: {}, metadata: {} };
const next = (): Promise<UnaryResult> => Promise.resolve(result);
const reply: WireReply = { status: Code.OK, message: '', contentType: PROTOBUF, body: new Uint8Array(), metadata: {} };
const delivery: Delivery = {
  request: {
    service: method.service,
    method: method.path,
    contentType: PROTOBUF,
    body: new Uint8Array(),
    metadata: {},
    deadline: Date.now() + 60_000,
    messageId: 'm',
  },
  unsupportedContentType: undefined,
  redelivered: false,
  userId: undefined,
};
const handler = (): Promise<WireReply | null> => Promise.resolve(reply);

async function time(run: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const cpu = process.cpuUsage();
    for (let i = 0; i < iterations; i++) {
      await run();
      // let timers and I/O run now and then, as a real process does (the batch span processor exports on a timer)
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    const used = process.cpuUsage(cpu);
    // CPU time, not wall time: the machine may be shared
    best = Math.min(best, ((used.user + used.system) * 1e3) / iterations);
  }
  return best;
}

const metrics = createWarrenMetrics({ registry: new Registry() });
const eventCall: EventCall = {
  side: 'publish',
  type: 'warren.test.v1.Tick',
  messageId: 'm',
  message: {},
  metadata: {},
};
const publishNext = (): Promise<void> => Promise.resolve();
const eventDelivery: EventDelivery = {
  event: {
    type: 'warren.test.v1.Tick',
    contentType: PROTOBUF,
    body: new Uint8Array(),
    metadata: {},
    messageId: 'm',
    publishedAt: 0,
    publisher: 'p',
  },
  unsupportedContentType: undefined,
  attempts: 0,
  redelivered: false,
  queue: 'events.g',
} as EventDelivery;
const ack: EventOutcome = { kind: 'ack' };
const deliveryNext = (): Promise<EventOutcome> => Promise.resolve(ack);
const known = (path: string): boolean => path === method.path;
const layers: [string, () => Promise<unknown>][] = [
  ['bare next()', next],
  [
    'client tracing, no SDK',
    (
      (chain) => () =>
        chain(call)
    )(clientTracingInterceptor()(next)),
  ],
  [
    'client metrics',
    (
      (chain) => () =>
        chain(call)
    )(clientMetricsInterceptor(metrics)(next)),
  ],
  [
    'server wrapper, metrics, tracing without SDK',
    (
      (wrapped) => () =>
        wrapped(delivery)
    )(observeDispatch(method.service, handler, { metrics, tracing: true, isKnown: known, instance: 'i' })),
  ],
  [
    'publish: tracing (no SDK) + metrics',
    (
      (chain) => () =>
        chain(eventCall)
    )(publishTracingInterceptor()(publishMetricsInterceptor(metrics)(publishNext))),
  ],
  [
    'delivery wrapper, metrics, tracing without SDK',
    (
      (wrapped) => () =>
        wrapped(eventDelivery)
    )(observeDeliveries('g', deliveryNext, { metrics, tracing: true })),
  ],
];

const rows: [string, number][] = [];
for (const [name, run] of layers) rows.push([name, await time(run)]);

// the same with an SDK registered (always-on sampler, batch processor into an exporter that drops everything)
const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
const dropping = {
  export: (_spans: unknown, done: (result: { code: number }) => void) => done({ code: 0 }),
  shutdown: async () => undefined,
};
new NodeTracerProvider({
  spanProcessors: [new BatchSpanProcessor(dropping as never, { maxQueueSize: 65_536, maxExportBatchSize: 4_096 })],
}).register();
rows.push(['bare next() (SDK registered)', await time(next)]);
rows.push([
  'client tracing, SDK (span + traceparent)',
  await time(
    (
      (chain) => () =>
        chain(call)
    )(clientTracingInterceptor()(next)),
  ),
]);
rows.push([
  'server wrapper, metrics + SDK span',
  await time(
    (
      (wrapped) => () =>
        wrapped(delivery)
    )(observeDispatch(method.service, handler, { metrics, tracing: true, isKnown: known, instance: 'i' })),
  ),
]);

const bare = rows[0]![1];
const bareSdk = rows[6]![1];
console.log('layer                                          | ns/call | added ns');
console.log('-----------------------------------------------|---------|---------');
rows.forEach(([name, ns], index) =>
  console.log(
    `${name.padEnd(47)}| ${ns.toFixed(0).padStart(7)} | ${(ns - (index >= 6 ? bareSdk : bare)).toFixed(0).padStart(7)}`,
  ),
);
process.exit(0);
