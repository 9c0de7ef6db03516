import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Code, defaultLogger, RpcError, type Interceptor, type Logger, type ProtoRegistry, type Transport } from '../core/index.js';
import { createBreakers, type BreakerOptions, type BreakerState } from './breakers.js';
import { checkForwardHeaders, DEFAULT_FORWARD_HEADERS, requestIdOf } from './call-headers.js';
import { gatewayError } from './http-status.js';
import { createGatewayMetrics } from './metrics.js';
import { createOpenApiDocument } from './openapi.js';
import { JSON_UTF8, send, sendError } from './respond.js';
import { createRouter } from './router.js';
import { createRpcHandler, type RequestState } from './rpc-handler.js';

/** The operations endpoints, answered by the gateway itself. */
const OPERATION_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

/** Default RPC timeout when a request sets none. */
export const DEFAULT_GATEWAY_TIMEOUT_MS = 10_000;
/** Default cap on the timeout header. */
export const DEFAULT_MAX_TIMEOUT_MS = 60_000;
/** Default request body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** The transport calls go out on (usually `connectAmqp()`); the gateway never closes it. */
  readonly transport: Transport;
  /** The contracts (`loadProtos({ root: 'proto' })`); every unary method of every service is served. */
  readonly protos: ProtoRegistry;
  /** Default: the process logger. */
  readonly logger?: Logger;
  /** RPC timeout of requests without `x-warren-timeout-ms`. Default {@link DEFAULT_GATEWAY_TIMEOUT_MS}. */
  readonly defaultTimeoutMs?: number;
  /** Largest timeout a request may ask for. Default {@link DEFAULT_MAX_TIMEOUT_MS}. */
  readonly maxTimeoutMs?: number;
  /** Largest request body; beyond it 413. Default {@link DEFAULT_BODY_LIMIT_BYTES}. */
  readonly bodyLimitBytes?: number;
  /** Request headers passed on as metadata. Default {@link DEFAULT_FORWARD_HEADERS}. */
  readonly forwardHeaders?: readonly string[];
  /** Circuit breaker tuning (one breaker per service). */
  readonly breaker?: BreakerOptions;
  /** Time a client has to send the request headers. Default 10 000 ms. */
  readonly headersTimeoutMs?: number;
  /** Time a client has to send the whole request. Default 30 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this. Default 5 000 ms. */
  readonly keepAliveTimeoutMs?: number;
  /** How long `close()` waits for in-flight requests before cutting them off. Default 10 000 ms. */
  readonly drainMs?: number;
  /** Readiness beyond "not shutting down". Default: the transport's `connected` flag when it has one. */
  readonly isReady?: () => boolean;
  /** Client interceptors around every RPC. Default none. */
  readonly interceptors?: readonly Interceptor[];
  /** `info.title` and `info.version` of `/openapi.json`. */
  readonly openApi?: { readonly title?: string; readonly version?: string };
}

/** A running (or ready to listen) gateway. */
export interface Gateway {
  /** The node:http server (for tests and for embedding). */
  readonly server: Server;
  /** Starts listening. Default port 8080, all interfaces. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /**
   * Graceful shutdown: readiness turns 503, the listener closes, idle
   * connections close, in-flight requests finish (answers carry
   * `Connection: close`) for up to `drainMs`; then the rest are answered
   * 503 and every connection is closed. Idempotent.
   */
  close(): Promise<void>;
  /** The Prometheus registry `/metrics` serves. */
  readonly metrics: import('prom-client').Registry;
  /** The breaker state of a service (`closed` if it was never called). */
  breakerState(service: string): BreakerState;
  /** The generated OpenAPI document. */
  readonly openApi: Record<string, unknown>;
}

/**
 * Creates the HTTP gateway: JSON (and protobuf) over HTTP in, Warren RPCs
 * out. Routes: `POST /rpc/<package.Service>/<Method>` for every method, and
 * the `google.api.http` routes of the protos; `GET /healthz`, `/readyz`,
 * `/metrics`, `/openapi.json`. See gateway/README.md for the status table,
 * headers and breaker behaviour.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const logger = (options.logger ?? defaultLogger()).child({ component: 'gateway' });
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_GATEWAY_TIMEOUT_MS;
  const maxTimeoutMs = options.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const transportReady = (): boolean => (options.transport as { connected?: boolean }).connected !== false;
  const isReady = options.isReady ?? transportReady;
  const metrics = createGatewayMetrics(transportReady);
  const breakers = createBreakers(options.breaker ?? {}, logger, {
    onStateChange: (service, state, transition) => metrics.breakerState(service, state, transition),
    onReject: (service) => metrics.breakerRejected(service),
  });
  const router = createRouter(options.protos.services, logger);
  const openApi = createOpenApiDocument(router, { ...options.openApi, maxTimeoutMs });
  const openApiJson = JSON.stringify(openApi);
  const forwardHeaders = checkForwardHeaders(options.forwardHeaders ?? DEFAULT_FORWARD_HEADERS);

  let draining = false;
  const inFlight = new Set<RequestState>();
  let drained: (() => void) | undefined;
  const handleRpc = createRpcHandler({
    router,
    registry: options.protos,
    transport: options.transport,
    breakers,
    metrics,
    logger,
    interceptors: options.interceptors ?? [],
    defaultTimeoutMs,
    maxTimeoutMs,
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    forwardHeaders,
    draining: () => draining,
  });

  const operations = async (request: IncomingMessage, response: ServerResponse, path: string): Promise<void> => {
    const started = performance.now();
    let status = 200;
    if (request.method !== 'GET') {
      status = sendError(response, gatewayError(Code.UNIMPLEMENTED, `${path} answers GET only`, 405, { allow: 'GET' }), undefined, draining, undefined);
    } else if (path === '/healthz') {
      send(response, 200, JSON_UTF8, '{"status":"ok"}', undefined, draining);
    } else if (path === '/readyz') {
      const reason = draining ? 'shutting down' : isReady() ? undefined : 'broker not connected';
      status = reason === undefined ? 200 : 503;
      send(response, status, JSON_UTF8, JSON.stringify(reason === undefined ? { status: 'ready' } : { status: 'not ready', reason }), undefined, draining);
    } else if (path === '/metrics') {
      send(response, 200, metrics.registry.contentType, await metrics.registry.metrics(), undefined, draining);
    } else {
      send(response, 200, JSON_UTF8, openApiJson, undefined, draining);
    }
    metrics.request(path, request.method ?? 'GET', status, (performance.now() - started) / 1000);
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    if (OPERATION_PATHS.has(path)) {
      operations(request, response, path).catch((error: unknown) => {
        logger.error({ err: error }, 'operations endpoint failed');
        sendError(response, RpcError.from(error, Code.INTERNAL), undefined, true, undefined);
      });
    } else {
      serve(request, response);
    }
  };

  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    const started = performance.now();
    const state: RequestState = { requestId: requestIdOf(request.headers), abort: new AbortController(), route: 'unmatched' };
    inFlight.add(state);
    metrics.inFlight(1);
    response.once('close', () => {
      if (!response.writableFinished) state.abort.abort();
    });
    handleRpc(request, response, state)
      .then((status) => {
        metrics.request(state.route, request.method ?? 'GET', status, (performance.now() - started) / 1000);
        logger.debug({ requestId: state.requestId, method: request.method, route: state.route, status, ms: Math.round(performance.now() - started) }, 'request');
      })
      .catch((error: unknown) => logger.error({ err: error, requestId: state.requestId }, 'request handler failed'))
      .finally(() => {
        inFlight.delete(state);
        metrics.inFlight(-1);
        if (inFlight.size === 0) drained?.();
      });
  };

  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    },
    onRequest,
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    logger.debug({ err: error, code: error.code }, 'client connection error');
    if (socket.writable && !socket.destroyed) {
      const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });

  let closing: Promise<void> | undefined;
  const drainFor = (ms: number): Promise<void> =>
    inFlight.size === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });

  return {
    server,
    metrics: metrics.registry,
    openApi,
    breakerState: (service) => breakers.state(service),
    listen(port = 8080, host) {
      return new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          logger.info({ port: address.port, host: address.address, routes: router.restRoutes.length, methods: router.rpcRoutes.length }, 'gateway listening');
          resolve(address);
        });
      });
    },
    close() {
      closing ??= (async () => {
        draining = true;
        logger.info({ inFlight: inFlight.size }, 'gateway draining');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await drainFor(options.drainMs ?? 10_000);
        if (inFlight.size > 0) {
          logger.warn({ inFlight: inFlight.size }, 'drain time over: answering the rest 503');
          for (const state of inFlight) state.abort.abort(gatewayError(Code.UNAVAILABLE, 'the gateway is shutting down; retry', 503));
          await drainFor(1_000);
        }
        server.closeAllConnections();
        breakers.shutdown();
        await closed;
        logger.info({}, 'gateway closed');
      })();
      return closing;
    },
  };
}
