/**
 * A process's `/metrics` endpoint for Prometheus: Warren's metrics (and
 * whatever else is in the registry) plus prom-client's process metrics, on
 * a port of its own. The gateway does not need one: its HTTP port already
 * serves `/metrics`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, register as defaultRegister, type Registry } from 'prom-client';
import { Code } from '../protocol/code.js';
import { defaultLogger, type Logger } from './logger.js';
import { RpcError } from '../protocol/rpc-error.js';

/** Port of {@link createMetricsServer} when none is given (the usual Prometheus exporter port). */
export const DEFAULT_METRICS_PORT = 9464;

/** Options of {@link createMetricsServer}. */
export interface MetricsServerOptions {
  /** Default {@link DEFAULT_METRICS_PORT}; 0 picks a free port. */
  readonly port?: number;
  /** Default all interfaces. */
  readonly host?: string;
  /** What `/metrics` serves. Default prom-client's default registry (where Warren's metrics go). */
  readonly registry?: Registry;
  /** Add prom-client's process metrics (CPU, memory, event loop lag) to the registry. Default true. */
  readonly processMetrics?: boolean;
  /** Default: the process logger. */
  readonly logger?: Logger;
}

/** A listening metrics endpoint. */
export interface MetricsServer {
  readonly port: number;
  /** `http://<host>:<port>/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

const withProcessMetrics = new WeakSet<Registry>();

/** Serves `GET /metrics` (Prometheus text format) until closed. */
export async function createMetricsServer(options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const registry = options.registry ?? defaultRegister;
  const logger = (options.logger ?? defaultLogger()).child({ component: 'metrics' });
  if (options.processMetrics !== false && !withProcessMetrics.has(registry)) {
    withProcessMetrics.add(registry);
    // someone may have added them already (prom-client refuses a second set)
    if (registry.getSingleMetric('process_cpu_seconds_total') === undefined)
      collectDefaultMetrics({ register: registry });
  }
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('not found: metrics are at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'collecting metrics failed');
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('collecting metrics failed\n');
      },
    );
  });
  const port = options.port ?? DEFAULT_METRICS_PORT;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}/metrics`;
  logger.info({ port: address.port, host: address.address }, 'metrics listening');
  return {
    port: address.port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Starts {@link createMetricsServer} when `WARREN_METRICS_PORT` is set (0:
 * a free port; the `metrics listening` log line says which), on
 * `WARREN_METRICS_HOST` (default all interfaces). Unset or empty: no
 * endpoint (metrics are still recorded, for an embedding app to serve).
 * A port that cannot be bound is logged as an error and the process goes
 * on without the endpoint; a malformed value throws INVALID_ARGUMENT.
 */
export async function startMetricsFromEnv(
  options: Omit<MetricsServerOptions, 'port' | 'host'> = {},
): Promise<MetricsServer | undefined> {
  const raw = process.env['WARREN_METRICS_PORT']?.trim();
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `WARREN_METRICS_PORT must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`,
    );
  }
  const host = process.env['WARREN_METRICS_HOST']?.trim();
  try {
    return await createMetricsServer({ ...options, port, ...(host ? { host } : {}) });
  } catch (error) {
    (options.logger ?? defaultLogger()).error(
      { err: error, port },
      'metrics endpoint could not start; going on without it',
    );
    return undefined;
  }
}
