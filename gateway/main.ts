/**
 * Runs the HTTP gateway as a process:
 *
 * ```sh
 * npx tsx gateway/main.ts --proto-dir proto --port 8080
 * ```
 *
 * Flags win over environment variables:
 *
 * | flag | env | default |
 * |---|---|---|
 * | `--proto-dir` | `PROTO_DIR` | `proto` |
 * | `--port` | `PORT` | `8080` (0 picks a free port) |
 * | `--host` | `HOST` | all interfaces |
 * | `--amqp-url` | `AMQP_URL` | `amqp://guest:guest@127.0.0.1:5672` |
 * | | `AMQP_CA_FILE`, `AMQP_CERT_FILE`, `AMQP_KEY_FILE` | TLS for `amqps://` (read by `connectAmqp`) |
 * | | `GATEWAY_*` | timeouts, limits, exposure, authentication, rate limits, CORS: see gateway/env-config.ts and gateway/README.md |
 * | | `WARREN_LOG_LEVEL` | `info` |
 * | | `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_EXPORTER`, `OTEL_SERVICE_NAME`… | tracing off unless set (`startTracingFromEnv`) |
 *
 * A setting it cannot parse stops it at start with the variable's name.
 * SIGTERM / SIGINT drain in-flight requests, then exit 0. A lost broker
 * connection is the transport's business (it reconnects with backoff):
 * meanwhile `/readyz` answers 503 and calls fail within their deadline.
 */
import { parseArgs } from 'node:util';
import { type AmqpTransport, connectAmqp, defaultLogger, ownBrokerUrl, startTracingFromEnv } from '../core/index.js';
import { loadProtos } from '../core/tooling.js';
import { createGateway, type Gateway } from './create-gateway.js';
import { gatewayOptionsFromEnv } from './env-config.js';

const { values } = parseArgs({
  options: {
    'proto-dir': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'amqp-url': { type: 'string' },
  },
});
const env = process.env;
const logger = defaultLogger().child({ process: 'gateway' });

const protoDir = values['proto-dir'] ?? env['PROTO_DIR'] ?? 'proto';
const port = Number(values.port ?? env['PORT'] ?? 8080);
const host = values.host ?? env['HOST'];
// its own broker user when docker-compose's provision service wrote one (WARREN_BROKER_USERS_FILE), else AMQP_URL
const url = values['amqp-url'] ?? ownBrokerUrl('gateway', env) ?? env['AMQP_URL'];

let settings: ReturnType<typeof gatewayOptionsFromEnv>;
try {
  settings = gatewayOptionsFromEnv(env);
} catch (error) {
  process.stderr.write(`gateway: ${(error as Error).message}\n`);
  process.exit(2);
}
// spans only when OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT ask for them; /metrics is on the gateway's own port
const tracing = await startTracingFromEnv({ serviceName: 'gateway', logger });
const protos = await loadProtos({ root: protoDir });
let transport: AmqpTransport;
try {
  transport = await connectAmqp({
    ...(url === undefined ? {} : { url }),
    connectionName: `warren-gateway-${process.pid}`,
    logger,
  });
} catch (error) {
  // the message names the broker with its password redacted, and why (TLS certificate problems included)
  process.stderr.write(`gateway: ${(error as Error).message}\n`);
  process.exit(1);
}
let gateway: Gateway;
try {
  gateway = createGateway({ transport, protos, logger, ...settings });
} catch (error) {
  process.stderr.write(`gateway: ${(error as Error).message}\n`);
  await transport.close().catch(() => undefined);
  process.exit(2);
}
await gateway.listen(port, host);

let stopping = false;
const stop = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'gateway stopping');
  await gateway.close();
  await transport.close().catch(() => undefined);
  await tracing.shutdown();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
