/**
 * One side of the soak run, started by bench/soak.ts with `--expose-gc`:
 * `server` serves TestService and subscribes to OrderShipped; `client` keeps
 * `SOAK_CONCURRENCY` calls in flight (echo, sleep, increment) and publishes
 * `SOAK_EVENTS_PER_SECOND` events. Both answer `sample` with their RSS, heap
 * (after a full GC), open fds and counters.
 */
import { readdirSync } from 'node:fs';
import {
  type AmqpTransport,
  connectAmqp,
  createClient,
  createEventBus,
  createServer,
  RpcError,
} from '../../core/index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { OrderShipped } from '../../gen/warren/test/v1/test_events.js';
import { testService } from '../../core/testing/test-service.js';
import type { SoakCommand, SoakCounters, SoakReport, SoakSample } from './protocol.js';

const role = process.argv[2];
const url = process.env['SOAK_URL']!;
const concurrency = Number(process.env['SOAK_CONCURRENCY'] ?? 8);
const eventsPerSecond = Number(process.env['SOAK_EVENTS_PER_SECOND'] ?? 50);

const calls: Record<string, number> = {};
const eventFailures: Record<string, number> = {};
let events = 0;
const count = (table: Record<string, number>, key: string | number): void => {
  table[key] = (table[key] ?? 0) + 1;
};
const codeOf = (error: unknown): string => (error instanceof RpcError ? String(error.code) : 'other');

const transport: AmqpTransport = await connectAmqp({
  url,
  connectionName: `soak-${role}`,
  reconnect: { initialDelayMs: 100, maxDelayMs: 2000 },
});
const bus = createEventBus({ transport, service: `soak-${role}` });
let stopLoad: () => Promise<void>;
/** Forgets what the test implementation records per call (its ledger grows by design), so it does not read as a leak. */
let forgetLedger = (): void => undefined;

if (role === 'server') {
  const { implementation, ledger } = testService('soak');
  forgetLedger = () => {
    ledger.started.length = 0;
    ledger.counters.clear();
  };
  const counted = new Proxy(implementation, {
    get(target, key: string) {
      const handler = (target as Record<string, (...args: any[]) => unknown>)[key]!;
      return (...args: unknown[]) => {
        count(calls, 0);
        return handler.apply(target, args);
      };
    },
  });
  const server = createServer({ transport, instance: 'soak-server', prefetch: 64 }).add(TestServiceDefinition, counted);
  await server.start();
  await bus.subscribe(OrderShipped, () => void events++, { group: 'soak-audit', prefetch: 64 });
  stopLoad = () => server.close();
} else {
  const client = createClient(TestServiceDefinition, transport);
  let running = true;
  let n = 0;
  const worker = async (): Promise<void> => {
    while (running) {
      const i = n++;
      try {
        if (i % 10 < 7) await client.echo({ text: `soak-${i}`, number: i }, { timeoutMs: 5000 });
        else if (i % 10 < 9) await client.sleep({ millis: 5 }, { timeoutMs: 5000 });
        else await client.increment({ counter: `c${i % 100}` }, { timeoutMs: 5000 });
        count(calls, 0);
      } catch (error) {
        count(calls, codeOf(error));
        await new Promise((resolve) => setTimeout(resolve, 50)); // do not spin while the broker is away
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  const publishing = new Set<Promise<void>>();
  const tick = setInterval(() => {
    const publish = bus.publish(OrderShipped, { orderId: `o-${events}`, carrier: 'soak' }, { timeoutMs: 5000 }).then(
      () => void events++,
      (error: unknown) => count(eventFailures, codeOf(error)),
    );
    publishing.add(publish);
    void publish.finally(() => publishing.delete(publish));
  }, 1000 / eventsPerSecond);
  stopLoad = async () => {
    running = false;
    clearInterval(tick);
    await Promise.all([...workers, ...publishing]);
  };
}

function sample(): SoakSample {
  forgetLedger();
  (globalThis as { gc?: () => void }).gc?.();
  const counters: SoakCounters = {
    calls: { ...calls },
    events,
    eventFailures: { ...eventFailures },
    reconnections: transport.stats().reconnections,
  };
  return {
    at: Date.now(),
    rssBytes: process.memoryUsage.rss(),
    heapUsedBytes: process.memoryUsage().heapUsed,
    fds: readdirSync('/proc/self/fd').length,
    counters,
  };
}

const send = (report: SoakReport, then?: () => void): void => void process.send!(report, undefined, {}, () => then?.());
process.on('message', (command: SoakCommand) => {
  if (command.type === 'sample') {
    send({ type: 'sample', sample: sample() });
    return;
  }
  void (async () => {
    await stopLoad();
    await bus.close();
    const last = sample();
    await transport.close();
    send({ type: 'stopped', sample: last }, () => process.exit(0));
  })();
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
