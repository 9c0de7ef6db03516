/**
 * `warren/tooling`: what tools built on Warren need beyond the user API — the gateway, the CLI, other front doors.
 * Runtime-loaded protos, the one unary call path, broker inspection, poison requests, the mesh, tracing hooks for
 * HTTP servers. Not for application code: a service needs only `warren`.
 */

// protos loaded at run time
export { loadProtos, type LoadProtosOptions, type ProtoRegistry } from './reflect/load-protos.js';
export { createDynamicMessageType, type DynamicMessageType } from './reflect/message-type.js';
export { createDynamicService, type DynamicMethod, type DynamicService } from './reflect/service-definition.js';
export type { HttpRule } from './reflect/http-rule.js';

// calling
export { okReply, sendUnary, unaryRequest, type ReplyCheck } from './rpc/unary-call.js';
export { createMethodCaller } from './rpc/client.js';
export { openCallScope, type CallScope } from './rpc/call-scope.js';
export { chainInterceptors } from './interceptor.js';
export { chainEventInterceptors } from './event-interceptor.js';
export { decodeEvent } from './events/event-bus.js';
export type { EventTransport, WireEvent } from './event-transport.js';

// the broker
export { describeConnectError, tlsSocketOptions } from './amqp/tls.js';
export {
  openQueueInspector,
  type QueueInspector,
  type QueueInspectorOptions,
  type QueueState,
} from './amqp/queue-inspector.js';
export {
  holdRpcDeadLetters,
  readRpcDeadLetter,
  type HeldDeadLetters,
  type RpcDeadLetter,
} from './amqp/rpc/dead-letter-reader.js';
export { messageIdentity, relayIdentity } from './amqp/identity.js';
export { createAmqpEvents, type AmqpEvents, type AmqpEventsOptions } from './amqp/events/amqp-events.js';

// security
export { METHOD_ACCESS_FIELD, methodCallers } from './security/method-access.js';

// observability and the mesh
export {
  clientMetricsInterceptor,
  clientObservability,
  clientTracingInterceptor,
} from './observability/client-observer.js';
export { publishTracingInterceptor } from './observability/event-observer.js';
export { runInTraceContextOf, withActiveTraceContext } from './observability/propagation.js';
export { traceHttpServer } from './observability/http-tracing.js';
export { logContextFields } from './observability/log-context.js';
export { tracingEnabled } from './observability/tracing.js';
export { LATENCY_BUCKETS, type BreakerStateName } from './observability/metrics.js';
export {
  createMeshReporter,
  DEFAULT_MESH_REPORT_INTERVAL_MS,
  type MeshBreakerState,
  type MeshReporter,
  type MeshReporterOptions,
} from './mesh/reporter.js';
export { createAmqpMeshSink, type ChannelOpener, type MeshReportSink } from './amqp/mesh-sink.js';
export { declareMeshExchange, declareMeshViewerQueue, meshReportProperties } from './amqp/mesh-topology.js';
export { startMeshFeed, type MeshFeed, type MeshFeedTarget } from './amqp/mesh-feed.js';
export {
  LATENCY_BASE_MS,
  latencyBucket,
  latencyBucketUpperMs,
  latencyQuantile,
  LatencyRecorder,
} from './mesh/histogram.js';
export { createBreakerRegistry, type BreakerRegistry } from './resilience/breaker.js';
export { brokerUrls } from './amqp/broker-urls.js';
export { resolveQueueType, QUEUE_TYPE_ENV } from './amqp/queue-type.js';
export { isConnectionLoss, markConnectionLoss } from './rpc/retry-policy.js';
