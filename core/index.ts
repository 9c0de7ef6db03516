/**
 * Warren's public API. User-facing symbols first: connect, serve, call,
 * errors; then the pieces for custom transports and dynamic clients.
 */
export { connectAmqp, DEFAULT_AMQP_URL, type AmqpTransport, type AmqpTransportOptions, type AmqpTransportStats } from './amqp/amqp-transport.js';
export { describeConnectError, tlsFromEnv, tlsSocketOptions, type AmqpTlsOptions } from './amqp/tls.js';
export { createMemoryTransport, type MemoryTransportOptions } from './memory-transport.js';
export { createServer, DEFAULT_DRAIN_MS, DEFAULT_PREFETCH, type Server, type ServerOptions, type ServiceImplementation } from './server.js';
export { createClient, createMethodCaller, DEFAULT_TIMEOUT_MS, type CallOptions, type Client, type ClientOptions } from './client.js';
export { Code, codeName, parseCode, NOT_PROCESSED_CODES, SERVER_FAULT_CODES } from './code.js';
export { RpcError, type ErrorDetail, type RpcErrorOptions } from './rpc-error.js';
export { currentContext, type CallerIdentity, type HandlerContext } from './handler-context.js';
export { createAccessPolicy, userPrincipal, type AccessMode, type AccessPolicy, type AccessPolicyOptions, type Callers } from './security/access-policy.js';
export { createEventAccess, type EventAccessOptions, type EventAccessPolicy } from './security/event-access.js';
export { ANY_CALLER, METHOD_ACCESS_FIELD, methodCallers } from './security/method-access.js';
export { messageIdentity, ORIGIN_USER_HEADER, relayIdentity } from './security/identity.js';
export { serverUsersFromConfig, serverUsersFromEnv, type ServingConfig } from './security/server-users.js';
export { ownBrokerUrl, readBrokerUsersFile } from './security/broker-users-file.js';
export { chainInterceptors, type Interceptor, type UnaryCall, type UnaryNext, type UnaryResult } from './interceptor.js';
export { MAX_METADATA_BYTES, validateMetadata, type Metadata } from './metadata.js';
export { boundStatusMessage, checkJsonDepth, MAX_JSON_DEPTH, MAX_STATUS_MESSAGE_BYTES } from './wire-bounds.js';
export { JSON_TYPE, PROTOBUF, type ContentType } from './content-type.js';
export { HEALTH_CHECK_PATH } from './health.js';
export { createLogger, defaultLogger, REDACTED_LOG_FIELDS, redactUrl, type CreateLoggerOptions, type Logger } from './logger.js';
export { startTracingFromEnv, tracingRequested, type Tracing, type TracingFromEnvOptions } from './observability/otel-sdk.js';
export { createMetricsServer, DEFAULT_METRICS_PORT, startMetricsFromEnv, type MetricsServer, type MetricsServerOptions } from './observability/metrics-server.js';
export { createWarrenMetrics, defaultMetrics, LATENCY_BUCKETS, type BreakerStateName, type WarrenMetrics, type WarrenMetricsOptions } from './observability/metrics.js';
export { clientMetricsInterceptor, clientObservability, clientTracingInterceptor } from './observability/rpc-client.js';
export type { ObservabilityOptions } from './observability/observability-options.js';
export { MESSAGING_SYSTEM, publishTracingInterceptor } from './observability/event-observability.js';
export { runInTraceContextOf, withActiveTraceContext } from './observability/propagation.js';
export { traceHttpServer } from './observability/http-tracing.js';
export { logContextFields, REQUEST_ID_METADATA_KEY } from './observability/log-context.js';
export { RPC_SYSTEM, STATUS_CODE_ATTRIBUTE, tracingEnabled } from './observability/tracing.js';
export {
  describeService,
  isIdempotent,
  type IdempotencyLevel,
  type MessageType,
  type MethodDefinition,
  type MethodInfo,
  type RequestInit,
  type RequestOf,
  type ResponseInit,
  type ResponseOf,
  type ServiceDefinition,
} from './definition.js';
export type { Consumer, Delivery, DeliveryHandler, ServeOptions, Transport, WireReply, WireRequest } from './transport.js';
export { DIRECT_REPLY_TO, isReplyAddress, PROTOCOL_HEADER, PROTOCOL_VERSION, REPLY_QUEUE_PREFIX, RPC_EXCHANGE, serviceQueue } from './amqp/topology.js';
export { DEADLINE_HEADER, MESSAGE_HEADER, STATUS_HEADER } from './amqp/wire-properties.js';
export { loadProtos, type LoadProtosOptions, type ProtoRegistry } from './dynamic/load-protos.js';
export { createDynamicMessageType, type DynamicMessageType } from './dynamic/message-type.js';
export { createDynamicService, type DynamicMethod, type DynamicService } from './dynamic/service-definition.js';
export type { HttpRule } from './dynamic/http-rule.js';
export {
  createEventBus,
  decodeEvent,
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
export { currentEvent, type EventContext, type EventHandler } from './events/event-context.js';
export { chainEventInterceptors, type EventCall, type EventInterceptor, type EventNext } from './events/event-interceptor.js';
export { createMemoryDedupStore, deduplicate, DEFAULT_DEDUP_ENTRIES, type DedupStore } from './events/dedup.js';
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS, MAX_RETRY_DELAY_MS, type RetryPolicy as EventRetryPolicy } from './events/retry-policy.js';
export type { DeadLetter, EventConsumer, EventDelivery, EventDeliveryHandler, EventOutcome, EventPublishOptions, EventQueueSpec, EventTransport, ReplayResult, WireEvent } from './events/event-transport.js';
export { DEFAULT_PUBLISH_TIMEOUT_MS } from './events/event-transport.js';
export { createAmqpEvents, type AmqpEvents, type AmqpEventsOptions, type AmqpEventsStats, type ChannelSource, type EventConnection } from './events/amqp-events.js';
export {
  ATTEMPTS_HEADER,
  broadcastQueue,
  DEAD_AT_HEADER,
  DEAD_QUEUE_HEADER,
  deadLetterQueue,
  DEATH_REASON_HEADER,
  delayQueue,
  EVENTS_EXCHANGE,
  groupQueue,
  LAST_ERROR_HEADER,
  PUBLISHED_AT_HEADER,
  topicMatches,
} from './events/events-topology.js';
export { replyToError } from './reply-error.js';
export { closeOnSignals, type Closable, type CloseOnSignalsOptions } from './shutdown.js';
export { DEFAULT_RETRY_POLICY, RetryThrottle, type RetryBudget, type RetryPolicy } from './retry-policy.js';
export type { ReconnectOptions } from './amqp/connection-manager.js';
export { deadLetterQueue as rpcDeadLetterQueue } from './amqp/topology.js';
export { createMeshReporter, DEFAULT_MESH_REPORT_INTERVAL_MS, type MeshBreakerState, type MeshReporter, type MeshReporterOptions } from './observability/mesh-reporter.js';
export { createAmqpMeshSink, type ChannelOpener, type MeshReportSink } from './observability/mesh-amqp-sink.js';
export { declareMeshExchange, declareMeshViewerQueue, MESH_EXCHANGE, MESH_QUEUE_MAX_LENGTH, MESH_REPORT_TYPE, meshReportProperties } from './observability/mesh-topology.js';
export { LATENCY_BASE_MS, latencyBucket, latencyBucketUpperMs, latencyQuantile, LatencyRecorder } from './observability/mesh-histogram.js';
