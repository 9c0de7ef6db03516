import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { BreakerState, type InstanceReport } from '../../gen/warren/mesh/v1/mesh.js';
import { Code } from '../protocol/code.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { RpcError } from '../protocol/rpc-error.js';
import type { Transport } from '../transport.js';
import { createAmqpMeshSink, type ChannelOpener, type MeshReportSink } from '../amqp/mesh-sink.js';
import { instrumentTransport } from './instrument.js';
import { MeshStats } from './stats.js';

/** Default time between two reports of an instance. */
export const DEFAULT_MESH_REPORT_INTERVAL_MS = 2_000;
/** Reports expire in the broker after this many intervals. */
const TTL_INTERVALS = 3;
/** How long `close()` waits for the final report to go out. */
const FINAL_REPORT_TIMEOUT_MS = 1_000;
/** A change of what the process serves or consumes is reported this soon. */
const CHANGE_DELAY_MS = 100;
/** The first report goes out this soon after creation (or after one interval, if shorter), so viewers see the process at once. */
const FIRST_REPORT_MS = 500;

/** A circuit breaker's state as the reporter reads it. */
export type MeshBreakerState = 'closed' | 'half-open' | 'open';

/** Options of {@link createMeshReporter}. */
export interface MeshReporterOptions<T extends Transport> {
  /** The transport to count and report over; use the reporter's `transport` instead from then on. */
  readonly transport: T;
  /** Name the process reports under (e.g. `orders`); also the event bus's `service`, so event flows are attributed to it. */
  readonly app: string;
  /** Instance id. Default `<host>-<pid>-<random>`; pass it to `createServer({ instance })` so health answers match. */
  readonly instance?: string;
  /** Time between reports. Default {@link DEFAULT_MESH_REPORT_INTERVAL_MS}; 0 turns reporting off (the transport is returned as it is). */
  readonly intervalMs?: number;
  /** The process's circuit breakers now, `[target, state]` (target: a service name or a dependency's app name). Default none. */
  readonly breakers?: () => Iterable<readonly [string, MeshBreakerState]>;
  /** Where reports go. Default: {@link MESH_EXCHANGE} over the transport's own connection (`AmqpTransport.openChannel`). */
  readonly sink?: MeshReportSink;
  /** Default: the process logger. */
  readonly logger?: Logger;
}

/** A running reporter. */
export interface MeshReporter<T extends Transport> {
  /** The counted transport: serve, call and subscribe through it. */
  readonly transport: T;
  readonly app: string;
  readonly instance: string;
  /** Sends a report of the window so far now (tests, or before an expected exit). */
  flush(): Promise<void>;
  /** Stops the timer and sends a last report marked `stopping`, so viewers drop the instance at once. Idempotent. */
  close(): Promise<void>;
}

const BREAKER_STATES: Record<MeshBreakerState, BreakerState> = {
  closed: BreakerState.BREAKER_STATE_CLOSED,
  'half-open': BreakerState.BREAKER_STATE_HALF_OPEN,
  open: BreakerState.BREAKER_STATE_OPEN,
};

/**
 * Reports this process to the live mesh page. It counts what goes through
 * the transport (calls served and sent per method with codes and a latency
 * histogram, event deliveries per group, type and publisher, dead letters)
 * and publishes an `InstanceReport` (proto/warren/mesh/v1/mesh.proto) every
 * `intervalMs`, with the services and event groups it consumes and its
 * breakers' states; a change of those is reported within 100 ms. The timer
 * is unref'd (it never keeps a process alive) and sending never throws
 * into the process: a report that cannot go out is dropped.
 *
 * ```ts
 * const reporter = createMeshReporter({ transport: await connectAmqp(), app: 'orders' });
 * const server = createServer({ transport: reporter.transport, instance: reporter.instance });
 * ```
 */
export function createMeshReporter<T extends Transport>(options: MeshReporterOptions<T>): MeshReporter<T> {
  const intervalMs = options.intervalMs ?? DEFAULT_MESH_REPORT_INTERVAL_MS;
  if (!Number.isInteger(intervalMs) || intervalMs < 0)
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `mesh report interval must be a whole number of ms ≥ 0, got ${intervalMs}`,
    );
  if (options.app.trim() === '') throw new RpcError(Code.INVALID_ARGUMENT, 'a mesh reporter needs an app name');
  const app = options.app;
  const instance = options.instance ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (intervalMs === 0) {
    return {
      transport: options.transport,
      app,
      instance,
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  const logger = (options.logger ?? defaultLogger()).child({ component: 'mesh-reporter', app });
  const sink = options.sink ?? amqpSinkOf(options.transport, logger);
  const stats = new MeshStats();
  const services = new Map<string, number>();
  const groups = new Map<string, { broadcast: boolean; count: number }>();
  const startedAt = Date.now();
  let windowStart = startedAt;
  let sequence = 0;
  let sending: Promise<void> | undefined;
  let changeTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  const soon = (delayMs: number): void => {
    if (closing || changeTimer) return;
    changeTimer = setTimeout(() => {
      changeTimer = undefined;
      void report(false);
    }, delayMs);
    changeTimer.unref();
  };
  const changed = (): void => soon(CHANGE_DELAY_MS);
  const transport = instrumentTransport(options.transport, stats, {
    serving(service, delta) {
      const now = (services.get(service) ?? 0) + delta;
      if (now > 0) services.set(service, now);
      else services.delete(service);
      changed();
    },
    subscribed(group, broadcast, delta) {
      const entry = groups.get(group) ?? { broadcast, count: 0 };
      entry.count += delta;
      if (entry.count > 0) groups.set(group, entry);
      else groups.delete(group);
      changed();
    },
  });

  const build = (stopping: boolean): InstanceReport => {
    const now = Date.now();
    const window = stats.take();
    const breakers = [...(options.breakers?.() ?? [])].map(([target, state]) => ({
      target,
      state: BREAKER_STATES[state] ?? BreakerState.BREAKER_STATE_UNSPECIFIED,
    }));
    const built: InstanceReport = {
      app,
      instance,
      services: [...services.keys()],
      startedAtMs: startedAt,
      sentAtMs: now,
      windowMs: Math.max(0, now - windowStart),
      sequence: ++sequence,
      intervalMs,
      stopping,
      served: window.served,
      called: window.called,
      groups: [...groups].map(([group, entry]) => ({ group, broadcast: entry.broadcast })),
      handled: window.handled,
      breakers,
      deadLetters: window.deadLetters,
    };
    windowStart = now;
    return built;
  };

  /** Builds and sends a report, one at a time (a tick while one is still going out is skipped). */
  const report = (stopping: boolean): Promise<void> => {
    if (sending) return stopping ? sending.then(() => report(true)) : sending;
    const sent = sink
      .send(build(stopping), intervalMs * TTL_INTERVALS)
      .catch((error: unknown) => logger.debug({ err: error }, 'mesh report not sent'))
      .finally(() => {
        if (sending === sent) sending = undefined;
      });
    sending = sent;
    return sent;
  };

  const timer = setInterval(() => void report(false), intervalMs);
  timer.unref();
  soon(Math.min(intervalMs, FIRST_REPORT_MS));

  return {
    transport,
    app,
    instance,
    flush: () => report(false),
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        clearTimeout(changeTimer);
        const final = report(true);
        await Promise.race([final, new Promise((resolve) => setTimeout(resolve, FINAL_REPORT_TIMEOUT_MS).unref())]);
        await sink.close();
      })();
      return closing;
    },
  };
}

function amqpSinkOf(transport: Transport, logger: Logger): MeshReportSink {
  if (typeof (transport as Partial<ChannelOpener>).openChannel !== 'function') {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `the ${transport.kind} transport cannot carry mesh reports: pass a sink, or an AMQP transport`,
    );
  }
  return createAmqpMeshSink(transport as unknown as ChannelOpener, logger);
}
