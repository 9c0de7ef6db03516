/**
 * Event publish and delivery rates, over the real broker (and the memory
 * transport for reference).
 *
 *   npx tsx bench/events-bench.ts [--events 20000] [--window 1000] [--rounds 3]
 *
 * One process; the publisher and every subscriber instance have their own
 * AMQP connection, in a throw-away vhost. Events are small protobuf messages
 * (warren.test.v1.Tick), persistent, published with confirms and `mandatory`;
 * `window` publishes are in flight at once (the last row publishes one at a
 * time, to show the confirm round trip). Scenarios:
 *
 *   no consumer      one group bound but not consumed: publish (confirm) rate alone;
 *                    also as raw amqplib (same properties, confirm, mandatory): the baseline
 *   1 group x 1      one group, one instance
 *   3 groups x 2     fan-out: three groups, two instances each (3 deliveries per event)
 *
 * publish/s counts confirmed publishes over the publishing time; delivery/s
 * counts handler runs from the first publish to the last delivery; latency is
 * publish to handler start; cpu µs/event is this process's CPU time (publisher
 * and subscribers) per event, which a loaded machine disturbs less than the
 * rates. Medians over rounds; the last line is JSON.
 */
import { connect as connectRaw } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  connectAmqp,
  createEventBus,
  createMemoryTransport,
  DEFAULT_AMQP_URL,
  type EventBus,
  type Transport,
} from '../core/index.js';
import { Tick } from '../gen/warren/test/v1/test_events.js';
import { createBenchVhost } from './rpc/vhost.js';

interface Scenario {
  readonly name: string;
  readonly transport: 'amqp' | 'memory' | 'raw amqplib';
  readonly groups: number;
  readonly instances: number;
  readonly window: number;
  readonly events: number;
}

interface Sample {
  readonly publishPerSecond: number;
  readonly deliveryPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** This process's CPU (user + system) per event, publishing and handling included. */
  readonly cpuMicrosPerEvent: number;
}

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    window: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const events = Number(values.events);
const window = Number(values.window);
const rounds = Number(values.rounds);
if (![events, window, rounds].every((n) => Number.isInteger(n) && n > 0))
  throw new Error('--events, --window and --rounds must be positive integers');

const scenarios: Scenario[] = [
  { name: 'no consumer', transport: 'raw amqplib', groups: 1, instances: 0, window, events },
  { name: 'no consumer', transport: 'amqp', groups: 1, instances: 0, window, events },
  { name: '1 group x 1', transport: 'amqp', groups: 1, instances: 1, window, events },
  { name: '3 groups x 2', transport: 'amqp', groups: 3, instances: 2, window, events },
  { name: '3 groups x 2', transport: 'memory', groups: 3, instances: 2, window, events },
  {
    name: '1 group x 1, one at a time',
    transport: 'amqp',
    groups: 1,
    instances: 1,
    window: 1,
    events: Math.min(events, 2_000),
  },
];

const vhost = await createBenchVhost(process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL);
const opened: Transport[] = [];
let groupCounter = 0;

async function connect(kind: 'amqp' | 'memory', memory: Transport): Promise<Transport> {
  if (kind === 'memory') return memory;
  const transport = await connectAmqp({ url: vhost.url });
  opened.push(transport);
  return transport;
}

/** Baseline: amqplib alone publishing what Warren publishes (persistent, mandatory, confirmed, same headers). */
async function runRaw(scenario: Scenario): Promise<Sample> {
  const model = await connectRaw(vhost.url);
  try {
    const channel = await model.createConfirmChannel();
    const queue = `bench-raw-${++groupCounter}`;
    await channel.assertExchange('warren.events', 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, 'warren.events', Tick.$type);
    const cpu = process.cpuUsage();
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: scenario.window }, async () => {
        while (next < scenario.events) {
          const body = Buffer.from(Tick.encode({ run: 'bench', seq: BigInt(next++) }).finish());
          const properties = {
            persistent: true,
            mandatory: true,
            contentType: 'application/x-protobuf',
            messageId: randomUUID(),
            timestamp: Math.floor(Date.now() / 1000),
            appId: 'bench-publisher',
            type: Tick.$type,
            headers: { 'warren-published-at': Date.now() },
          };
          await new Promise<void>((resolve, reject) =>
            channel.publish('warren.events', Tick.$type, body, properties, (error: unknown) =>
              error ? reject(error) : resolve(),
            ),
          );
        }
      }),
    );
    return {
      publishPerSecond: scenario.events / Math.max(0.001, (Date.now() - started) / 1000),
      deliveryPerSecond: 0,
      p50Ms: 0,
      p99Ms: 0,
      cpuMicrosPerEvent: cpuPerEvent(cpu, scenario.events),
    };
  } finally {
    await model.close();
  }
}

async function runScenario(scenario: Scenario): Promise<Sample> {
  const kind = scenario.transport;
  if (kind === 'raw amqplib') return runRaw(scenario);
  const memory = createMemoryTransport();
  const buses: EventBus[] = [];
  const latencies: number[] = [];
  const expected = scenario.instances === 0 ? 0 : scenario.events * scenario.groups;
  let delivered = 0;
  let lastDelivery = 0;
  let finished: () => void = () => undefined;
  const allDelivered = new Promise<void>((resolve) => (finished = resolve));
  try {
    for (let g = 0; g < scenario.groups; g++) {
      const group = `bench-${++groupCounter}`;
      const count = Math.max(1, scenario.instances);
      for (let i = 0; i < count; i++) {
        const bus = createEventBus({ transport: await connect(kind, memory), service: 'bench-subscriber' });
        buses.push(bus);
        const subscription = await bus.subscribe(
          Tick,
          (_tick, ctx) => {
            latencies.push(Date.now() - ctx.publishedAt);
            delivered++;
            lastDelivery = Date.now();
            if (delivered === expected) finished();
          },
          { group, prefetch: 256 },
        );
        if (scenario.instances === 0) await subscription.close(); // bound and durable, never consumed
      }
    }
    const publisher = createEventBus({ transport: await connect(kind, memory), service: 'bench-publisher' });
    const cpu = process.cpuUsage();
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: scenario.window }, async () => {
        while (next < scenario.events) await publisher.publish(Tick, { run: 'bench', seq: next++ });
      }),
    );
    const published = Date.now();
    if (expected > 0) await allDelivered;
    latencies.sort((a, b) => a - b);
    return {
      publishPerSecond: scenario.events / Math.max(0.001, (published - started) / 1000),
      deliveryPerSecond: expected === 0 ? 0 : delivered / Math.max(0.001, (lastDelivery - started) / 1000),
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      cpuMicrosPerEvent: cpuPerEvent(cpu, scenario.events),
    };
  } finally {
    await Promise.all(buses.map((bus) => bus.close()));
    for (const transport of opened.splice(0)) await transport.close();
    await memory.close();
  }
}

function cpuPerEvent(since: NodeJS.CpuUsage, events: number): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / events;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

try {
  const results = new Map<Scenario, Sample[]>(scenarios.map((scenario) => [scenario, []]));
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) {
      const sample = await runScenario(scenario);
      results.get(scenario)!.push(sample);
      process.stderr.write(
        `round ${round + 1}/${rounds} ${scenario.transport} ${scenario.name}: ${Math.round(sample.publishPerSecond)} publish/s, ${Math.round(sample.deliveryPerSecond)} delivery/s\n`,
      );
    }
  }
  const rows = scenarios.map((scenario) => {
    const samples = results.get(scenario)!;
    return {
      transport: scenario.transport,
      scenario: scenario.name,
      events: scenario.events,
      window: scenario.window,
      publishPerSecond: Math.round(median(samples.map((s) => s.publishPerSecond))),
      deliveryPerSecond: Math.round(median(samples.map((s) => s.deliveryPerSecond))),
      p50Ms: median(samples.map((s) => s.p50Ms)),
      p99Ms: median(samples.map((s) => s.p99Ms)),
      cpuMicrosPerEvent: Math.round(median(samples.map((s) => s.cpuMicrosPerEvent))),
    };
  });
  const header = [
    'transport',
    'scenario',
    'events',
    'window',
    'publish/s',
    'delivery/s',
    'latency p50 ms',
    'p99 ms',
    'cpu µs/event',
  ];
  const table = [
    header,
    ...rows.map((row) => [
      row.transport,
      row.scenario,
      String(row.events),
      String(row.window),
      String(row.publishPerSecond),
      row.deliveryPerSecond === 0 ? '-' : String(row.deliveryPerSecond),
      row.deliveryPerSecond === 0 ? '-' : String(row.p50Ms),
      row.deliveryPerSecond === 0 ? '-' : String(row.p99Ms),
      String(row.cpuMicrosPerEvent),
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  for (const line of table)
    console.log(
      line
        .map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  '),
    );
  console.log(JSON.stringify({ rounds, rows }));
} finally {
  for (const transport of opened) await transport.close().catch(() => undefined);
  await vhost.remove();
}
