/**
 * Warren's Prometheus metrics: one set per registry, shared by every client,
 * server and event bus of a process (prom-client's default registry unless
 * told otherwise). Names follow Prometheus conventions (base units in the
 * name, `_total` on counters); see `.tmp/docs/observability.md` for the table.
 */
import { register as defaultRegister, type Registry } from 'prom-client';
import { Code, codeName } from '../protocol/code.js';
import { HistogramFamily, ValueFamily, type HistogramCell, type ValueCell } from './metric-family.js';

/** Latency buckets (seconds) of the RPC and event histograms: 0.5 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Default pause between two samples of the service queues' depth. */
export const DEFAULT_QUEUE_SAMPLE_MS = 5_000;

/** `method` label of requests naming a method the service does not have (bounded cardinality). */
export const OTHER_METHOD = '_OTHER';
/** `method` label of the built-in health check. */
export const HEALTH_METHOD = '_health';

/** The series of one RPC method on one side. Cache it; recording is a few additions. */
export interface RpcSeries {
  readonly inFlight: ValueCell;
  readonly duration: HistogramCell;
  /** Counts one finished call with its code. */
  count(code: Code): void;
}

/** The series of one event type published. */
export interface PublishSeries {
  readonly duration: HistogramCell;
  count(code: Code): void;
}

/** What the subscriber decided about one delivery. */
export type EventOutcomeKind = 'ack' | 'retry' | 'dead';

/** The series of one event type handled by one group. */
export interface HandleSeries {
  readonly inFlight: ValueCell;
  readonly duration: HistogramCell;
  count(outcome: EventOutcomeKind): void;
}

/** What the metrics read from an AMQP transport at scrape time (`AmqpTransport.stats()`, `connected`). */
export interface ObservedTransport {
  stats(): { readonly reconnections: number; readonly lateReplies: number };
  readonly connected: boolean;
}

/** Breaker states as the gauge values: 0 closed, 1 half-open, 2 open. */
export type BreakerStateName = 'closed' | 'half-open' | 'open';
const BREAKER_VALUE: Record<BreakerStateName, number> = { closed: 0, 'half-open': 1, open: 2 };

/** A process's Warren metrics. Clients, servers and buses record into it; `/metrics` serves `registry`. */
export interface WarrenMetrics {
  readonly registry: Registry;
  /** Pause between queue depth samples (ms). */
  readonly queueSampleIntervalMs: number;
  /** The series of `service`/`method` (short method name) on one side. */
  rpc(side: 'client' | 'server', service: string, method: string): RpcSeries;
  /** Counts a client retry caused by `code`. */
  retried(service: string, method: string, code: Code): void;
  published(type: string): PublishSeries;
  handled(group: string, type: string): HandleSeries;
  /** Records a circuit breaker's state; counts a transition unless it is the breaker's creation. */
  breakerState(dependency: string, state: BreakerStateName, transition: boolean): void;
  /** Records a sample of a queue: ready messages and consumers. */
  queueSample(queue: string, messages: number, consumers: number): void;
  /** Reads reconnections, late replies and the connection state of an AMQP transport at scrape time. */
  watchTransport(transport: unknown): void;
}

/** Options of {@link createWarrenMetrics}. */
export interface WarrenMetricsOptions {
  /** Where the metrics register. Default prom-client's default registry. */
  readonly registry?: Registry;
  /** Default `WARREN_QUEUE_SAMPLE_MS`, else {@link DEFAULT_QUEUE_SAMPLE_MS}. */
  readonly queueSampleIntervalMs?: number;
}

/**
 * Creates Warren's metrics in a registry (which must not hold them yet:
 * use one per registry, e.g. {@link defaultMetrics} for the default one).
 */
export function createWarrenMetrics(options: WarrenMetricsOptions = {}): WarrenMetrics {
  const registry = options.registry ?? defaultRegister;
  const counter = (name: string, help: string, labelNames: readonly string[]): ValueFamily =>
    new ValueFamily(registry, { name, help, type: 'counter', labelNames });
  const gauge = (name: string, help: string, labelNames: readonly string[]): ValueFamily =>
    new ValueFamily(registry, { name, help, type: 'gauge', labelNames });
  const histogram = (name: string, help: string, labelNames: readonly string[]): HistogramFamily =>
    new HistogramFamily(registry, { name, help, labelNames, buckets: LATENCY_BUCKETS });

  const rpcFamilies = {
    client: {
      calls: counter(
        'warren_rpc_client_calls_total',
        'RPCs made, by service, method and status code (one per call, retries included in it)',
        ['service', 'method', 'code'],
      ),
      duration: histogram('warren_rpc_client_duration_seconds', 'RPC latency seen by the caller, retries included', [
        'service',
        'method',
      ]),
      inFlight: gauge('warren_rpc_client_in_flight_calls', 'RPCs waiting for their answer now', ['service', 'method']),
    },
    server: {
      calls: counter(
        'warren_rpc_server_calls_total',
        'Requests a server answered (or dropped), by service, method and status code',
        ['service', 'method', 'code'],
      ),
      duration: histogram(
        'warren_rpc_server_duration_seconds',
        'Time from delivery to reply, decoding and handler included',
        ['service', 'method'],
      ),
      inFlight: gauge('warren_rpc_server_in_flight_calls', 'Requests being handled now', ['service', 'method']),
    },
  };
  const retries = counter(
    'warren_rpc_client_retries_total',
    'Client retries, by service, method and the code that caused them',
    ['service', 'method', 'code'],
  );
  const published = counter(
    'warren_events_published_total',
    'Events published, by type and outcome code (OK once the broker confirmed)',
    ['type', 'code'],
  );
  const publishDuration = histogram(
    'warren_events_publish_duration_seconds',
    'Time to publish an event until the broker confirmed it',
    ['type'],
  );
  const handled = counter(
    'warren_events_handled_total',
    'Event deliveries handled, by group, type and outcome (ack, retry, dead: dead-lettered)',
    ['group', 'type', 'outcome'],
  );
  const handleDuration = histogram(
    'warren_events_handler_duration_seconds',
    'Time an event handler took, by group and type',
    ['group', 'type'],
  );
  const handleInFlight = gauge('warren_events_in_flight', 'Event deliveries being handled now', ['group', 'type']);
  const breakerGauge = gauge(
    'warren_breaker_state',
    'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open',
    ['dependency'],
  );
  const breakerTransitions = counter(
    'warren_breaker_transitions_total',
    'Circuit breaker state changes, by dependency and new state',
    ['dependency', 'state'],
  );
  const queueMessages = gauge(
    'warren_queue_messages',
    'Messages ready in a service queue (sampled with a passive declare)',
    ['queue'],
  );
  const queueConsumers = gauge(
    'warren_queue_consumers',
    'Consumers of a service queue (sampled with a passive declare)',
    ['queue'],
  );

  const transports = new Set<WeakRef<ObservedTransport>>();
  const seen = new WeakSet<object>();
  const lastRead = new WeakMap<ObservedTransport, { reconnections: number; lateReplies: number }>();
  const liveTransports = (): ObservedTransport[] => {
    const live: ObservedTransport[] = [];
    for (const ref of transports) {
      const transport = ref.deref();
      if (transport) live.push(transport);
      else transports.delete(ref);
    }
    return live;
  };
  /** Adds what each transport counted since the last scrape (its counters only grow). */
  const readTransports = (): void => {
    for (const transport of liveTransports()) {
      const stats = transport.stats();
      const last = lastRead.get(transport) ?? { reconnections: 0, lateReplies: 0 };
      reconnections.cell().value += Math.max(0, stats.reconnections - last.reconnections);
      lateReplies.cell().value += Math.max(0, stats.lateReplies - last.lateReplies);
      lastRead.set(transport, { reconnections: stats.reconnections, lateReplies: stats.lateReplies });
    }
  };
  const reconnections = new ValueFamily(registry, {
    name: 'warren_amqp_reconnections_total',
    help: 'Broker reconnections of the AMQP transports of this process',
    type: 'counter',
    collect: readTransports,
  });
  const lateReplies = new ValueFamily(registry, {
    name: 'warren_rpc_client_late_replies_total',
    help: 'Replies that came after their caller gave up (dropped)',
    type: 'counter',
    collect: readTransports,
  });
  new ValueFamily(registry, {
    name: 'warren_amqp_connected',
    help: 'AMQP transports of this process connected to the broker now',
    type: 'gauge',
    collect: (family) => {
      family.cell().value = liveTransports().filter((transport) => transport.connected).length;
    },
  });

  const rpcSeries = new Map<string, RpcSeries>();
  const publishSeries = new Map<string, PublishSeries>();
  const handleSeries = new Map<string, HandleSeries>();

  return {
    registry,
    queueSampleIntervalMs: options.queueSampleIntervalMs ?? envInterval(),
    rpc(side, service, method) {
      const key = `${side}\u0000${service}\u0000${method}`;
      let series = rpcSeries.get(key);
      if (!series) {
        const families = rpcFamilies[side];
        const codes: (ValueCell | undefined)[] = [];
        series = {
          inFlight: families.inFlight.cell(service, method),
          duration: families.duration.cell(service, method),
          count(code) {
            (codes[code] ??= families.calls.cell(service, method, codeName(code))).value++;
          },
        };
        rpcSeries.set(key, series);
      }
      return series;
    },
    retried(service, method, code) {
      retries.cell(service, method, codeName(code)).value++;
    },
    published(type) {
      let series = publishSeries.get(type);
      if (!series) {
        const codes: (ValueCell | undefined)[] = [];
        series = {
          duration: publishDuration.cell(type),
          count(code) {
            (codes[code] ??= published.cell(type, codeName(code))).value++;
          },
        };
        publishSeries.set(type, series);
      }
      return series;
    },
    handled(group, type) {
      const key = `${group}\u0000${type}`;
      let series = handleSeries.get(key);
      if (!series) {
        const outcomes: Partial<Record<EventOutcomeKind, ValueCell>> = {};
        series = {
          inFlight: handleInFlight.cell(group, type),
          duration: handleDuration.cell(group, type),
          count(outcome) {
            (outcomes[outcome] ??= handled.cell(group, type, outcome)).value++;
          },
        };
        handleSeries.set(key, series);
      }
      return series;
    },
    breakerState(dependency, state, transition) {
      breakerGauge.cell(dependency).value = BREAKER_VALUE[state];
      if (transition) breakerTransitions.cell(dependency, state).value++;
    },
    queueSample(queue, messages, consumers) {
      queueMessages.cell(queue).value = messages;
      queueConsumers.cell(queue).value = consumers;
    },
    watchTransport(transport) {
      if (!isObservedTransport(transport) || seen.has(transport)) return;
      seen.add(transport);
      transports.add(new WeakRef(transport));
    },
  };
}

function isObservedTransport(value: unknown): value is ObservedTransport {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { stats?: unknown }).stats === 'function' &&
    'connected' in value
  );
}

function envInterval(): number {
  const raw = process.env['WARREN_QUEUE_SAMPLE_MS'];
  const value = raw === undefined || raw.trim() === '' ? DEFAULT_QUEUE_SAMPLE_MS : Number(raw);
  return Number.isInteger(value) && value >= 100 ? value : DEFAULT_QUEUE_SAMPLE_MS;
}

const DEFAULT_KEY = Symbol.for('warren.observability.default-metrics');

/**
 * The process's Warren metrics in prom-client's default registry, made on
 * first use (kept on `globalThis`, so two copies of this module share them).
 * Clients, servers and buses record into it unless given `metrics: false`
 * or their own {@link WarrenMetrics}.
 */
export function defaultMetrics(): WarrenMetrics {
  const holder = globalThis as { [DEFAULT_KEY]?: WarrenMetrics };
  holder[DEFAULT_KEY] ??= createWarrenMetrics();
  return holder[DEFAULT_KEY];
}

/** Resolves a component's `metrics` option: `false` → none, a given set, else the process default. */
export function metricsFrom(option: WarrenMetrics | false | undefined): WarrenMetrics | undefined {
  return option === false ? undefined : (option ?? defaultMetrics());
}
