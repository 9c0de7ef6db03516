import {
  Code,
  connectAmqp,
  createClient,
  createServer,
  RpcError,
  type ServiceImplementation,
} from '../../core/index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import type { PeerAdapter } from './adapter.js';
import { ECHO_TEXT } from './message.js';

/**
 * Warren as the README shows it, with every default a user gets:
 * `connectAmqp({ url })`, `createServer({ transport })` (prefetch 64, no
 * interceptors) serving TestService, and the generated client from
 * `createClient(TestServiceDefinition, transport)` (10 s deadline). Only the
 * echo method does work; it answers the same text as every other system.
 */
export const warrenPeer: PeerAdapter = {
  async startServer(url) {
    const transport = await connectAmqp({ url, connectionName: `bench-warren-server-${process.pid}` });
    const unused = (): never => {
      throw new RpcError(Code.UNIMPLEMENTED, 'not part of the benchmark');
    };
    const implementation: ServiceImplementation<typeof TestServiceDefinition> = {
      echo: (request) => ({ text: request.text }),
      sleep: unused,
      fail: unused,
      increment: unused,
      relay: unused,
    };
    const server = createServer({ transport }).add(TestServiceDefinition, implementation);
    await server.start();
    return {
      async close() {
        await server.close();
        await transport.close();
      },
    };
  },
  async startClient(url) {
    const transport = await connectAmqp({ url, connectionName: `bench-warren-client-${process.pid}` });
    const client = createClient(TestServiceDefinition, transport);
    const request = { text: ECHO_TEXT };
    return { call: () => client.echo(request), close: () => transport.close() };
  },
};
