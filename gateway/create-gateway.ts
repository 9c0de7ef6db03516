import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { clientObservability, type ProtoRegistry, traceHttpServer } from '../core/tooling.js';
import {
  Code,
  defaultLogger,
  defaultMetrics,
  type Interceptor,
  type Logger,
  RpcError,
  type Transport,
} from '../core/index.js';
import { validateMetadata } from '../core/protocol/index.js';
import { createAuthenticator, type AuthOptions } from './auth.js';
import { answerClientError } from './client-error.js';
import { createCors, type CorsOptions } from './cors.js';
import { brokerUserOf, contractAccess, createExposure, DEFAULT_EXPOSE } from './exposure.js';
import { createFrontDoor, DEFAULT_MAX_HEADER_COUNT } from './front-door.js';
import { checkForwardHeaders, DEFAULT_FORWARD_HEADERS, requestIdOf } from './call-headers.js';
import { gatewayError } from './http-status.js';
import { createGatewayMetrics } from './metrics.js';
import { createRateLimiter, type RateLimitOptions } from './rate-limit.js';
import { createOpenApiDocument } from './openapi.js';
import { JSON_UTF8, send, sendError } from './respond.js';
import { createRouter } from './router.js';
import { createMeshPage, type MeshPageOptions } from './mesh/mesh-page.js';
import { createRpcHandler, type RequestState } from './rpc-handler.js';
import { createBreakerRegistry } from '../core/tooling.js';
import { type BreakerOptions, type BreakerState } from '../core/index.js';
import { createUnaryInvoker, type CallSettings } from './unary-invoke.js';
import { createGrpcFamily } from './protocols/grpc-family.js';
import { attachHttp2 } from './protocols/http2-listener.js';
import type { WireKind } from './protocols/wire-codec.js';

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
  /**
   * The live mesh page (`/mesh`, `/mesh.json`, `/mesh/stream`, gateway/README.md)
   * and the gateway's own mesh reports. Default on when the transport is AMQP;
   * `false` turns both off.
   */
  readonly mesh?: MeshPageOptions | false;
  /**
   * Who may call: bearer JWTs and/or API keys (gateway/auth.ts). The verified
   * subject reaches services as metadata `auth-subject`. Default: none, every
   * exposed method is open (a warning is logged at start).
   */
  readonly auth?: AuthOptions;
  /** Per-client token buckets (by subject, else address); 429 beyond. Default: no limit. */
  readonly rateLimit?: RateLimitOptions;
  /** Cross-origin access for browser apps. Default: none (no CORS headers, preflights 404/405). */
  readonly cors?: CorsOptions;
  /**
   * Which methods are served (gateway/exposure.ts): `@http`, `pkg.Service/Method`,
   * `pkg.Service/*`, `pkg.*`, `*`. Default {@link DEFAULT_EXPOSE}: only methods
   * with `google.api.http` rules. Others answer 404 like unknown paths.
   */
  readonly expose?: readonly string[];
  /** The gateway's broker user, matched against contract access options. Default: the transport URL's user, else `guest`. */
  readonly brokerUser?: string;
  /** Largest request line + headers; beyond it 431. Default 16 384 bytes (node's). */
  readonly maxHeaderBytes?: number;
  /** Most request headers; beyond it 431. Default {@link DEFAULT_MAX_HEADER_COUNT}. */
  readonly maxHeaderCount?: number;
  /**
   * gRPC server reflection (grpc.reflection.v1 and v1alpha) from the loaded
   * contracts, so `buf curl` / `grpcurl` work without a local schema. Default
   * true; it describes every loaded file, exposed or not (lists only exposed services).
   */
  readonly reflection?: boolean;
  /**
   * TLS on the gateway's port (PEM key and certificate): HTTP/1.1 and HTTP/2
   * chosen by ALPN. Default: cleartext (HTTP/2 by prior knowledge).
   */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** An HTTP/2 connection without open streams is closed after this. Default 60 000 ms. */
  readonly http2IdleTimeoutMs?: number;
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
  const coreMetrics = defaultMetrics();
  coreMetrics.watchTransport(options.transport);
  const breakers = createBreakerRegistry(
    {
      ...options.breaker,
      metrics: false, // the gateway's own families (warren_gateway_breaker_*) count them
      onStateChange: (service, state, transition) => metrics.breakerState(service, state, transition),
      onReject: (service) => metrics.breakerRejected(service),
    },
    logger,
  );
  const exposure = createExposure(
    options.expose ?? DEFAULT_EXPOSE,
    options.protos.services,
    contractAccess(options.protos.root, options.brokerUser ?? brokerUserOf(options.transport)),
  );
  const router = createRouter(exposure.filter(options.protos.services), logger);
  const mesh =
    options.mesh === false
      ? undefined
      : createMeshPage({
          ...options.mesh,
          transport: options.transport,
          services: options.protos.services.map((service) => service.fullName),
          breakers: () => breakers.states(),
          logger,
        });
  const auth = options.auth;
  const security = auth
    ? {
        bearer: auth.jwt !== undefined || auth.apiKeys !== undefined,
        apiKeyHeader: auth.apiKeys ? (auth.apiKeys.header ?? 'x-api-key').toLowerCase() : undefined,
      }
    : undefined;
  const openApi = createOpenApiDocument(router, {
    ...options.openApi,
    maxTimeoutMs,
    ...(security ? { security } : {}),
  });
  const openApiJson = JSON.stringify(openApi);
  const forwardHeaders = checkForwardHeaders(options.forwardHeaders ?? DEFAULT_FORWARD_HEADERS);
  const authenticator = options.auth ? createAuthenticator(options.auth) : undefined;
  const subjectKey = authenticator?.subjectMetadataKey;
  if (subjectKey !== undefined) {
    validateMetadata({ [subjectKey]: '' });
    if (forwardHeaders.includes(subjectKey))
      throw new TypeError(`${subjectKey} carries the verified subject; it cannot also be a forwarded header`);
  } else {
    logger.warn({}, 'no authentication configured: every exposed method is open to anyone who can reach the gateway');
  }
  const maxHeaderCount = options.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT;
  const maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;

  let draining = false;
  const inFlight = new Set<RequestState>();
  let drained: (() => void) | undefined;
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  // the one call path of every protocol: breaker, deadline timer, RPC metrics, client interceptors
  const invoke = createUnaryInvoker(
    router.rpcRoutes.map((route) => route.target),
    mesh?.transport ?? options.transport,
    // CLIENT spans (children of the HTTP span) and warren_rpc_client_* in the process's registry, before the caller's own
    [...clientObservability(coreMetrics, true), ...(options.interceptors ?? [])],
    breakers,
    metrics,
  );
  const callSettings: CallSettings = {
    registry: options.protos,
    invoke,
    logger,
    defaultTimeoutMs,
    maxTimeoutMs,
    bodyLimitBytes,
    forwardHeaders,
    subjectMetadataKey: subjectKey,
    draining: () => draining,
  };
  const handleRpc = createRpcHandler({ ...callSettings, router });
  const wire = createGrpcFamily({
    ...callSettings,
    router,
    exposedServices: exposure.filter(options.protos.services),
    transport: options.transport,
    ready: () => !draining && isReady(),
    reflection: options.reflection !== false,
  });
  const admit = createFrontDoor({
    cors: options.cors ? createCors(options.cors) : undefined,
    authenticator,
    limiter: options.rateLimit ? createRateLimiter(options.rateLimit) : undefined,
    trustProxyHops: options.rateLimit?.trustProxyHops ?? 0,
    maxHeaderCount,
    logger,
    draining: () => draining,
    refused: (request, status) => metrics.request('refused', request.method ?? 'GET', status, 0),
    answerError: (request, response, error, requestId, close) => {
      const kind = wire.detect(request, pathOf(request));
      return kind === undefined
        ? sendError(response, error, requestId, close, undefined)
        : wire.answerError(kind, response, error, requestId ?? requestIdOf(request.headers), close);
    },
  });

  const operations = async (request: IncomingMessage, response: ServerResponse, path: string): Promise<void> => {
    const started = performance.now();
    let status = 200;
    if (request.method !== 'GET') {
      status = sendError(
        response,
        gatewayError(Code.UNIMPLEMENTED, `${path} answers GET only`, 405, { allow: 'GET' }),
        undefined,
        draining,
        undefined,
      );
    } else if (path === '/healthz') {
      send(response, 200, JSON_UTF8, '{"status":"ok"}', undefined, draining);
    } else if (path === '/readyz') {
      const reason = draining ? 'shutting down' : isReady() ? undefined : 'broker not connected';
      status = reason === undefined ? 200 : 503;
      send(
        response,
        status,
        JSON_UTF8,
        JSON.stringify(reason === undefined ? { status: 'ready' } : { status: 'not ready', reason }),
        undefined,
        draining,
      );
    } else if (path === '/metrics') {
      // the gateway's own metrics, then Warren's (RPC client, transport) from the process registry
      const [own, core] = await Promise.all([metrics.registry.metrics(), coreMetrics.registry.metrics()]);
      send(response, 200, metrics.registry.contentType, `${own}\n${core}`, undefined, draining);
    } else {
      send(response, 200, JSON_UTF8, openApiJson, undefined, draining);
    }
    metrics.request(path, request.method ?? 'GET', status, (performance.now() - started) / 1000);
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const path = pathOf(request);
    const admitted = admit(request, response, path, OPERATION_PATHS.has(path) || mesh?.handles(path) === true);
    if (admitted === undefined) return;
    if (!(admitted instanceof Promise)) return route(request, response, path, admitted.subject);
    admitted.then(
      (admission) => admission && route(request, response, path, admission.subject),
      (error: unknown) => {
        logger.error({ err: error }, 'admission check failed');
        const kind = wire.detect(request, path);
        const failure = RpcError.from(error, Code.INTERNAL);
        if (kind === undefined) sendError(response, failure, undefined, true, undefined);
        else wire.answerError(kind, response, failure, requestIdOf(request.headers), true);
      },
    );
  };

  const route = (
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    subject: string | undefined,
  ): void => {
    if (mesh?.handles(path)) {
      mesh.serve(request, response, path, draining);
    } else if (OPERATION_PATHS.has(path)) {
      operations(request, response, path).catch((error: unknown) => {
        logger.error({ err: error }, 'operations endpoint failed');
        sendError(response, RpcError.from(error, Code.INTERNAL), undefined, true, undefined);
      });
    } else {
      serve(request, response, subject, wire.detect(request, path), path);
    }
  };

  const serve = (
    request: IncomingMessage,
    response: ServerResponse,
    subject: string | undefined,
    kind: WireKind | undefined,
    path: string,
  ): void => {
    const started = performance.now();
    const state: RequestState = {
      requestId: requestIdOf(request.headers),
      abort: new AbortController(),
      route: 'unmatched',
      subject,
    };
    inFlight.add(state);
    metrics.inFlight(1);
    response.once('close', () => {
      if (!response.writableFinished) state.abort.abort();
    });
    traceHttpServer(
      request,
      () => state.route,
      () =>
        kind === undefined ? handleRpc(request, response, state) : wire.handle(kind, request, response, state, path),
    )
      .then((status) => {
        metrics.request(state.route, request.method ?? 'GET', status, (performance.now() - started) / 1000);
        logger.debug(
          {
            requestId: state.requestId,
            method: request.method,
            route: state.route,
            status,
            ms: Math.round(performance.now() - started),
          },
          'request',
        );
      })
      .catch((error: unknown) => logger.error({ err: error, requestId: state.requestId }, 'request handler failed'))
      .finally(() => {
        inFlight.delete(state);
        metrics.inFlight(-1);
        if (inFlight.size === 0) drained?.();
      });
  };

  const serverOptions = {
    headersTimeout: headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    maxHeaderSize: maxHeaderBytes,
  };
  const server: Server = options.tls
    ? createTlsServer(
        { ...serverOptions, key: options.tls.key, cert: options.tls.cert, ALPNProtocols: ['h2', 'http/1.1'] },
        onRequest,
      )
    : createServer(serverOptions, onRequest);
  // HTTP/2 (gRPC, and everything else) on the same port; the HTTP/1.1 server above stays the listener
  const http2 = attachHttp2(
    server,
    (request, response) => onRequest(request as unknown as IncomingMessage, response as unknown as ServerResponse),
    {
      firstBytesTimeoutMs: headersTimeoutMs,
      idleTimeoutMs: options.http2IdleTimeoutMs ?? 60_000,
      maxHeaderBytes,
      maxHeaderPairs: maxHeaderCount + 8,
      tls: options.tls !== undefined,
    },
  );
  // node keeps every header in rawHeaders (the front door counts them there and answers 431) but builds `headers` from the first ones only
  server.maxHeadersCount = maxHeaderCount + 1;
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // never the error object itself: parser errors carry the raw request bytes (`rawPacket`), Authorization header included
    logger.debug({ code: error.code, reason: error.message }, 'client connection error');
    answerClientError(error, socket, maxHeaderBytes);
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
    breakerState: (service) => breakers.states().get(service) ?? 'closed',
    listen(port = 8080, host) {
      return new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          logger.info(
            {
              port: address.port,
              host: address.address,
              routes: router.restRoutes.length,
              methods: router.rpcRoutes.length,
            },
            'gateway listening',
          );
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
        http2.closeSessions();
        await drainFor(options.drainMs ?? 10_000);
        if (inFlight.size > 0) {
          logger.warn({ inFlight: inFlight.size }, 'drain time over: answering the rest 503');
          for (const state of inFlight)
            state.abort.abort(gatewayError(Code.UNAVAILABLE, 'the gateway is shutting down; retry', 503));
          await drainFor(1_000);
        }
        await mesh?.close();
        server.closeAllConnections();
        http2.destroySessions();
        breakers.shutdown();
        await closed;
        logger.info({}, 'gateway closed');
      })();
      return closing;
    },
  };
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const mark = url.indexOf('?');
  return mark < 0 ? url : url.slice(0, mark);
}
