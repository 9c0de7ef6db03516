/**
 * `warren/testing/conformance`: the RPC and events suites Warren's own transports (memory, AMQP) pass, to run
 * against another `Transport` implementation inside a vitest file:
 *
 * ```ts
 * import { describeRpcConformance } from 'warren/testing/conformance';
 * describeRpcConformance('my transport', async () => ({ connect: async () => myTransport, dispose: async () => {} }));
 * ```
 *
 * They import vitest (an optional peer dependency of warren): install it to use them.
 */
export { describeRpcConformance, type ConformanceEnvironment } from './rpc-conformance.js';
export { describeEventsConformance, type EventsEnvironment } from './events-conformance.js';
