/**
 * The life of a service process: connect to the broker, open the event bus,
 * let the service register its RPC handlers and subscriptions, start serving
 * (with health, metrics and tracing from the environment), print
 * `ready <name>`; on SIGTERM/SIGINT drain and exit 0. A lost broker
 * connection is not fatal: the transport reconnects with backoff and restores
 * every consumer, so the process keeps running and says so in its log.
 */
import { type AmqpTransport, connectAmqp, DEFAULT_AMQP_URL } from '../amqp/amqp-transport.js';
import { createEventBus, type EventBus } from '../events/event-bus.js';
import { createMeshReporter, DEFAULT_MESH_REPORT_INTERVAL_MS } from '../mesh/reporter.js';
import { startMetricsFromEnv } from '../observability/metrics-server.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { startTracingFromEnv } from '../observability/otel-sdk.js';
import { breakerStates } from '../resilience/breaker.js';
import { createServer, type Server } from '../rpc/server.js';
import type { AccessPolicy } from '../security/access-policy.js';
import type { EventAccessPolicy } from '../security/event-access.js';
import { envInteger } from './env-integer.js';

/** What a service's setup gets. */
export interface ServiceRuntime {
  readonly name: string;
  readonly transport: AmqpTransport;
  readonly events: EventBus;
  readonly server: Server;
  readonly logger: Logger;
  /** Runs at shutdown after the server and subscriptions stopped, last registered first. */
  onShutdown(hook: () => unknown): void;
}

/** Access control of a service (see `createAccessPolicy`, `createEventAccess`); absent parts are off. */
export interface ServiceAccessPolicies {
  readonly server?: AccessPolicy;
  readonly events?: EventAccessPolicy;
  /** Logged at start, e.g. `{ user: 'orders', access: 'enforce' }`. */
  readonly describe?: Readonly<Record<string, unknown>>;
}

/** Options of {@link runService}. */
export interface RunServiceOptions {
  /** Service name: logs, connection name, event publisher, mesh reports. */
  readonly name: string;
  /** Broker URL. Default: `AMQP_URL`, else the local broker. */
  readonly url?: string;
  /** AMQP connection name shown in the management UI. Default `<name>-<pid>`. */
  readonly connectionName?: string;
  /** Access control, built once the logger exists. Default: none. */
  access?(logger: Logger): ServiceAccessPolicies;
  /** Adds handlers to `runtime.server`, subscribes, starts background work. */
  setup(runtime: ServiceRuntime): Promise<void> | void;
}

/**
 * Runs a service until it is told to stop. Environment: `AMQP_URL` (default
 * the local broker; `amqps://` for TLS, with `AMQP_CA_FILE`,
 * `AMQP_CERT_FILE`, `AMQP_KEY_FILE`, `AMQP_KEY_PASSPHRASE`,
 * `AMQP_TLS_SERVERNAME` read by `connectAmqp`), `PREFETCH` (requests worked
 * on at once, default 64), `WARREN_LOG_LEVEL` (default info).
 * `WARREN_METRICS_PORT` serves Prometheus `/metrics` on that port; the
 * standard `OTEL_*` variables (`OTEL_EXPORTER_OTLP_ENDPOINT`…) turn tracing on.
 * `WARREN_MESH_REPORT_MS` (default 2000, 0: off) is how often the service
 * reports itself to the gateway's live `/mesh` page.
 */
export async function runService(options: RunServiceOptions): Promise<void> {
  const { name } = options;
  const logger = defaultLogger().child({ service: name });
  // spans only when OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT ask for them (OTEL_SERVICE_NAME wins over the name)
  const tracing = await startTracingFromEnv({ serviceName: name, logger });
  let transport: AmqpTransport;
  const url = options.url ?? (process.env['AMQP_URL'] || DEFAULT_AMQP_URL);
  const access = options.access?.(logger) ?? {};
  try {
    transport = await connectAmqp({ url, connectionName: options.connectionName ?? `${name}-${process.pid}`, logger });
  } catch (error) {
    logger.error({ err: error }, `${name} cannot reach the broker: start RabbitMQ or set AMQP_URL`);
    process.exit(1);
  }
  // counted and reported to the gateway's /mesh page every WARREN_MESH_REPORT_MS (0: off)
  const reporter = createMeshReporter({
    transport,
    app: name,
    logger,
    breakers: breakerStates,
    intervalMs: envInteger('WARREN_MESH_REPORT_MS', DEFAULT_MESH_REPORT_INTERVAL_MS, { max: 60_000 }),
  });
  transport = reporter.transport;
  const events = createEventBus({
    transport,
    service: name,
    logger,
    ...(access.events ? { access: access.events } : {}),
  });
  const server = createServer({
    transport,
    logger,
    instance: reporter.instance,
    prefetch: envInteger('PREFETCH', 64, { min: 1, max: 10_000 }),
    ...(access.server ? { access: access.server } : {}),
  });
  if (access.describe) logger.info(access.describe, `${name} connects as broker user (access control as logged)`);
  const hooks: (() => unknown)[] = [() => tracing.shutdown()];
  let stopping = false;

  const stop = async (exitCode: number, why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, `${name} stopping`);
    setTimeout(() => process.exit(exitCode || 1), 20_000).unref();
    try {
      await server.close();
      await events.close();
      for (const hook of hooks.reverse()) await hook();
      await reporter.close();
      await transport.close();
    } catch (error) {
      logger.error({ err: error }, `${name} did not stop cleanly`);
      exitCode = exitCode || 1;
    }
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop(0, 'SIGTERM'));
  process.on('SIGINT', () => void stop(0, 'SIGINT'));

  try {
    await options.setup({ name, transport, events, server, logger, onShutdown: (hook) => hooks.push(hook) });
    await server.start();
    // GET /metrics on WARREN_METRICS_PORT when set (npm start gives each service one)
    const metrics = await startMetricsFromEnv({ logger });
    if (metrics) hooks.push(() => metrics.close());
  } catch (error) {
    logger.error({ err: error }, `${name} could not start`);
    await stop(1, 'start failed');
    return;
  }
  // Never exit on a lost connection: the transport logs it, reconnects with backoff and restores every consumer.
  logger.info({}, `${name} ready`);
  process.stdout.write(`ready ${name}\n`);
}
