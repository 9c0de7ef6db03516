/**
 * `warren`: the API a service uses — connect, serve, call, publish and subscribe, errors, context, interceptors,
 * security policies, observability switches. Tools built on Warren (the gateway, the CLI) also use
 * `warren/tooling`; the wire facts are in `warren/protocol`; the memory transport and conformance suites for tests
 * are in `warren/testing`.
 */

// transports
export {
  connectAmqp,
  DEFAULT_AMQP_URL,
  type AmqpTransport,
  type AmqpTransportOptions,
  type AmqpTransportStats,
} from './amqp/amqp-transport.js';
export type { ReconnectOptions } from './amqp/connection-manager.js';
export { tlsFromEnv, type AmqpTlsOptions } from './amqp/tls.js';
export { createMemoryTransport, type MemoryTransportOptions } from './memory/memory-transport.js';
export type { QueueType } from './amqp/queue-type.js';
export type {
  Consumer,
  Delivery,
  DeliveryHandler,
  ServeOptions,
  Transport,
  WireReply,
  WireRequest,
} from './transport.js';

// serving and calling
export {
  createServer,
  DEFAULT_DRAIN_MS,
  DEFAULT_PREFETCH,
  type Server,
  type ServerOptions,
  type ServiceImplementation,
} from './rpc/server.js';
export { createClient, DEFAULT_TIMEOUT_MS, type CallOptions, type Client, type ClientOptions } from './rpc/client.js';
export { DEFAULT_RETRY_POLICY, RetryThrottle, type RetryBudget, type RetryPolicy } from './rpc/retry-policy.js';
export { Code, codeName } from './protocol/code.js';
export { RpcError, type ErrorDetail, type RpcErrorOptions } from './protocol/rpc-error.js';
export { JSON_TYPE, PROTOBUF, type ContentType } from './protocol/content-type.js';
export type { Metadata } from './protocol/metadata.js';
export { registerFileDescriptorSet } from './protocol/json/descriptor-registry.js';
export type {
  IdempotencyLevel,
  MessageType,
  MethodDefinition,
  MethodInfo,
  RequestInit,
  RequestOf,
  ResponseInit,
  ResponseOf,
  ServiceDefinition,
} from './protocol/definition.js';
export { currentContext, type CallerIdentity, type HandlerContext } from './handler-context.js';
export type { Interceptor, UnaryCall, UnaryNext, UnaryResult } from './interceptor.js';
export { closeOnSignals, type Closable, type CloseOnSignalsOptions } from './shutdown.js';

// identities of a least-privilege mesh (one broker user per service: `warren permissions`)
export { serverUsersFromConfig, serverUsersFromEnv, type ServingConfig } from './security/server-users.js';
export { ownBrokerUrl, readBrokerUsersFile } from './security/broker-users-file.js';

// events
export {
  createEventBus,
  DEFAULT_EVENT_PREFETCH,
  type EventBus,
  type EventBusOptions,
  type EventInit,
  type EventOf,
  type EventType,
  type PublishOptions,
  type RawEvent,
  type SubscribeOptions,
  type Subscription,
} from './events/event-bus.js';
export { currentEvent, type EventContext, type EventHandler } from './event-context.js';
export type { EventCall, EventInterceptor, EventNext } from './event-interceptor.js';
export type { DeadLetter, ReplayResult } from './event-transport.js';
export { createMemoryDedupStore, deduplicate, DEFAULT_DEDUP_ENTRIES, type DedupStore } from './events/dedup.js';
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS, type RedeliveryPolicy } from './events/redelivery-policy.js';

// security
export {
  createAccessPolicy,
  userPrincipal,
  type AccessMode,
  type AccessPolicy,
  type AccessPolicyOptions,
  type Callers,
} from './security/access-policy.js';
export { createEventAccess, type EventAccessOptions, type EventAccessPolicy } from './security/event-access.js';
export { ANY_CALLER } from './security/method-access.js';

// observability
export {
  createLogger,
  defaultLogger,
  redactUrl,
  type CreateLoggerOptions,
  type Logger,
} from './observability/logger.js';
export { startTracingFromEnv, type Tracing, type TracingFromEnvOptions } from './observability/otel-sdk.js';
export {
  createMetricsServer,
  DEFAULT_METRICS_PORT,
  startMetricsFromEnv,
  type MetricsServer,
  type MetricsServerOptions,
} from './observability/metrics-server.js';
export {
  createWarrenMetrics,
  defaultMetrics,
  type WarrenMetrics,
  type WarrenMetricsOptions,
} from './observability/metrics.js';
export type { ObservabilityOptions } from './observability/observability-options.js';

// resilience
export {
  breakerStates,
  createBreaker,
  DEFAULT_BREAKER_OPTIONS,
  type Breaker,
  type BreakerOptions,
  type BreakerState,
} from './resilience/breaker.js';

// running a service process
export {
  runService,
  type RunServiceOptions,
  type ServiceAccessPolicies,
  type ServiceRuntime,
} from './runner/run-service.js';
export { envInteger } from './runner/env-integer.js';
