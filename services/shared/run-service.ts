/**
 * The life of an example service process, the same for all five: connect to
 * the broker (AMQP_URL), open the event bus, let the service register its
 * RPC handlers and subscriptions, start serving, print `ready <name>`; on
 * SIGTERM/SIGINT drain and exit 0; if the broker connection is lost, exit 1
 * so a supervisor (Docker's restart policy) starts it again.
 */
import { connectAmqp, createEventBus, createServer, defaultLogger, type AmqpTransport, type EventBus, type Logger, type Server } from '../../core/index.js';
import { envInteger } from './env.js';

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
 * the local broker), `PREFETCH` (requests worked on at once, default 64),
 * `WARREN_LOG_LEVEL` (default info), `DATA_DIR` (read by the service's
 * database, default ./data).
 */
export async function runService(options: RunServiceOptions): Promise<void> {
  const { name } = options;
  const logger = defaultLogger().child({ service: name });
  let transport: AmqpTransport;
  try {
    transport = await connectAmqp({ connectionName: `shop-${name}-${process.pid}`, logger });
  } catch (error) {
    process.stderr.write(`${name}: ${(error as Error).message}\nStart RabbitMQ (rabbitmq-server -detached, or docker compose up -d rabbitmq) or set AMQP_URL.\n`);
    process.exit(1);
  }
  const events = createEventBus({ transport, service: name, logger });
  const server = createServer({ transport, logger, prefetch: envInteger('PREFETCH', 64, { min: 1, max: 10_000 }) });
  const hooks: (() => unknown)[] = [];
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
