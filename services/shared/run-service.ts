/**
 * The life of an example service process, the same for all five: connect to
 * the broker (AMQP_URL), open the event bus, let the service register its
 * RPC handlers and subscriptions, start serving, print `ready <name>`; on
 * SIGTERM/SIGINT drain and exit 0; if the broker connection is lost, exit 1
 * so a supervisor (Docker's restart policy) starts it again.
 */
import { type AmqpTransport, connectAmqp, createEventBus, createServer, defaultLogger, type EventBus, type Logger, type Server, startMetricsFromEnv, startTracingFromEnv, breakerStates } from 'warren';
import { createMeshReporter, DEFAULT_MESH_REPORT_INTERVAL_MS } from 'warren/tooling';
import { envInteger } from './env.js';
import { brokerUser, serviceAccess, serviceBrokerUrl } from './security.js';

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

/** Options of {@link runService}. */
export interface RunServiceOptions {
  /** Service name: logs, connection name, event publisher, data file. */
  readonly name: string;
  /** Adds handlers to `runtime.server`, subscribes, starts background work. */
  setup(runtime: ServiceRuntime): Promise<void> | void;
}

/**
 * Runs a service until it is told to stop. Environment: `AMQP_URL` (default
 * the local broker; `amqps://` for TLS, with `AMQP_CA_FILE`,
 * `AMQP_CERT_FILE`, `AMQP_KEY_FILE`, `AMQP_KEY_PASSPHRASE`,
 * `AMQP_TLS_SERVERNAME` read by `connectAmqp`), `PREFETCH` (requests worked
 * on at once, default 64), `WARREN_LOG_LEVEL` (default info), `DATA_DIR`
 * (read by the service's database, default ./data). `<NAME>_AMQP_URL` (the
 * service's own broker user) wins over `AMQP_URL`, and `WARREN_ACCESS`
 * (auto, enforce, audit, off) sets access control: see ./security.ts.
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
  const url = serviceBrokerUrl(name);
  const access = serviceAccess(brokerUser(url), logger);
  try {
    transport = await connectAmqp({ url, connectionName: `shop-${name}-${process.pid}`, logger });
  } catch (error) {
    process.stderr.write(`${name}: ${(error as Error).message}\nStart RabbitMQ (rabbitmq-server -detached, or docker compose up -d rabbitmq) or set AMQP_URL.\n`);
    process.exit(1);
  }
  // counted and reported to the gateway's /mesh page every WARREN_MESH_REPORT_MS (0: off)
  const reporter = createMeshReporter({ transport, app: name, logger, breakers: breakerStates, intervalMs: envInteger('WARREN_MESH_REPORT_MS', DEFAULT_MESH_REPORT_INTERVAL_MS, { max: 60_000 }) });
  transport = reporter.transport;
  const events = createEventBus({ transport, service: name, logger, ...(access.events ? { access: access.events } : {}) });
  const server = createServer({ transport, logger, instance: reporter.instance, prefetch: envInteger('PREFETCH', 64, { min: 1, max: 10_000 }), ...(access.server ? { access: access.server } : {}) });
  logger.info({ user: access.user, access: access.mode }, `${name} connects as broker user ${access.user}; access control ${access.mode}`);
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
    process.stderr.write(`${name} could not start: ${(error as Error).message}\n`);
    await stop(1, 'start failed');
    return;
  }
  setInterval(() => {
    if (!transport.connected) {
      logger.error({ url: transport.url }, 'broker connection lost: exiting for a restart');
      void stop(1, 'broker connection lost');
    }
  }, 1000).unref();
  logger.info({}, `${name} ready`);
  process.stdout.write(`ready ${name}\n`);
}
