/**
 * `warren/testing`: what a user needs to test a Warren service without a broker.
 *
 * - {@link createMemoryTransport}: the in-process transport (same semantics as AMQP: deadlines, status codes,
 *   round-robin consumers), for unit tests of handlers and clients with any test runner.
 * - The conformance contract (`warren.test.v1.TestService`) and its reference implementation, {@link testService}.
 *
 * The conformance suites to run against your own transport are in `warren/testing/conformance` (they register
 * vitest tests, so they need vitest, an optional peer dependency: this entry does not load it).
 */
export { createMemoryTransport, type MemoryTransportOptions } from './memory/memory-transport.js';
export { testService, type TestServiceLedger } from './testing/test-service.js';
export { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
