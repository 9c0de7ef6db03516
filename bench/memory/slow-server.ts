/**
 * The slow server of the memory bench, as its own process: Warren serving
 * TestService where Sleep holds each request for `millis` and then answers,
 * with prefetch 10,000 so every call of the client is in flight at once
 * (delivered, not waiting in the queue). Env BENCH_URL.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, connectAmqp, createServer, RpcError, type ServiceImplementation } from '../../core/index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { serveCommands } from '../rpc/child-ipc.js';

/** Most requests the server holds at once. */
export const SLOW_SERVER_PREFETCH = 10_000;

const transport = await connectAmqp({
  url: process.env['BENCH_URL']!,
  connectionName: `bench-memory-server-${process.pid}`,
});
const unused = (): never => {
  throw new RpcError(Code.UNIMPLEMENTED, 'not part of the benchmark');
};
const implementation: ServiceImplementation<typeof TestServiceDefinition> = {
  echo: (request) => ({ text: request.text }),
  sleep: async (request) => {
    await sleep(request.millis);
    return { sleptMs: request.millis };
  },
  fail: unused,
  increment: unused,
  relay: unused,
};
const server = createServer({ transport, prefetch: SLOW_SERVER_PREFETCH }).add(TestServiceDefinition, implementation);
await server.start();
serveCommands({
  stop: async () => {
    await server.close();
    await transport.close();
  },
});
