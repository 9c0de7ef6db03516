/**
 * Warren's public API. User-facing symbols first: connect, serve, call,
 * errors; then the pieces for custom transports and dynamic clients.
 */
export { connectAmqp, DEFAULT_AMQP_URL, type AmqpTransport, type AmqpTransportOptions } from './amqp/amqp-transport.js';
export { createMemoryTransport, type MemoryTransportOptions } from './memory-transport.js';
export { createServer, DEFAULT_DRAIN_MS, DEFAULT_PREFETCH, type Server, type ServerOptions, type ServiceImplementation } from './server.js';
export { createClient, createMethodCaller, DEFAULT_TIMEOUT_MS, type CallOptions, type Client, type ClientOptions } from './client.js';
export { Code, codeName, parseCode, NOT_PROCESSED_CODES, SERVER_FAULT_CODES } from './code.js';
export { RpcError, type ErrorDetail, type RpcErrorOptions } from './rpc-error.js';
export { currentContext, type CallerIdentity, type HandlerContext } from './handler-context.js';
export { chainInterceptors, type Interceptor, type UnaryCall, type UnaryNext, type UnaryResult } from './interceptor.js';
export { MAX_METADATA_BYTES, validateMetadata, type Metadata } from './metadata.js';
export { JSON_TYPE, PROTOBUF, type ContentType } from './content-type.js';
export { HEALTH_CHECK_PATH } from './health.js';
export { defaultLogger, redactUrl, type Logger } from './logger.js';
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
export { DIRECT_REPLY_TO, isReplyAddress, REPLY_QUEUE_PREFIX, RPC_EXCHANGE, serviceQueue } from './amqp/topology.js';
export { DEADLINE_HEADER, MESSAGE_HEADER, STATUS_HEADER } from './amqp/wire-properties.js';
