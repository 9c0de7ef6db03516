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
 * | | `GATEWAY_DEFAULT_TIMEOUT_MS` | 10000 |
 * | | `GATEWAY_MAX_TIMEOUT_MS` | 60000 |
 * | | `GATEWAY_BODY_LIMIT_BYTES` | 1048576 |
 * | | `GATEWAY_FORWARD_HEADERS` | `traceparent,tracestate,baggage` |
 * | | `GATEWAY_DRAIN_MS` | 10000 |
 * | | `WARREN_LOG_LEVEL` | `info` |
 *
 * SIGTERM / SIGINT drain in-flight requests, then exit 0. A lost broker
 * connection is the transport's business (it reconnects with backoff):
 * meanwhile `/readyz` answers 503 and calls fail within their deadline.
 */
import { parseArgs } from 'node:util';
import { connectAmqp, defaultLogger, loadProtos } from '../core/index.js';
import { createGateway } from './create-gateway.js';

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

const numberFrom = (name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
};

const protoDir = values['proto-dir'] ?? env['PROTO_DIR'] ?? 'proto';
const port = Number(values.port ?? env['PORT'] ?? 8080);
const host = values.host ?? env['HOST'];
const url = values['amqp-url'] ?? env['AMQP_URL'];

const protos = await loadProtos({ root: protoDir });
const transport = await connectAmqp({ ...(url === undefined ? {} : { url }), connectionName: `warren-gateway-${process.pid}` });
const gateway = createGateway({
  transport,
  protos,
  logger,
  defaultTimeoutMs: numberFrom('GATEWAY_DEFAULT_TIMEOUT_MS', 10_000),
  maxTimeoutMs: numberFrom('GATEWAY_MAX_TIMEOUT_MS', 60_000),
  bodyLimitBytes: numberFrom('GATEWAY_BODY_LIMIT_BYTES', 1024 * 1024),
  drainMs: numberFrom('GATEWAY_DRAIN_MS', 10_000),
  ...(env['GATEWAY_FORWARD_HEADERS'] === undefined ? {} : { forwardHeaders: env['GATEWAY_FORWARD_HEADERS'].split(',') }),
});
await gateway.listen(port, host);

let stopping = false;
const stop = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'gateway stopping');
  await gateway.close();
  await transport.close().catch(() => undefined);
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
