/**
 * `warren/testing`: what a user needs to test a Warren service without a broker, and to check their own transport.
 *
 * - {@link createMemoryTransport}: the in-process transport (same semantics as AMQP: deadlines, status codes,
 *   round-robin consumers), for unit tests of handlers and clients.
 * - {@link describeRpcConformance} / {@link describeEventsConformance}: the suites Warren's own transports pass,
 *   to run against another `Transport` implementation. They register vitest tests, so they need vitest (an optional
 *   peer dependency of this package: install it to use these two).
 * - The conformance contract (`warren.test.v1.TestService` and its events) and its reference implementation.
 */
export { createMemoryTransport, type MemoryTransportOptions } from './memory/memory-transport.js';
export { describeRpcConformance, type ConformanceEnvironment } from './testing/rpc-conformance.js';
export { describeEventsConformance, type EventsEnvironment } from './testing/events-conformance.js';
export { testService, type TestServiceLedger } from './testing/test-service.js';
export { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
