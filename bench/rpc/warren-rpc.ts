import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createClient,
  createServer,
  RpcError,
  type Server,
  type ServiceImplementation,
} from '../../core/index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import type { BenchCall } from './load-loop.js';
import { benchRequest, echoResponse } from './payload.js';

/** Prefetch of both servers, so the broker feeds them the same way. */
export const BENCH_PREFETCH = 256;

/** Warren server: TestService with the same echo work as the raw server; other methods are not benchmarked. */
export async function startWarrenServer(
  url: string,
  instance: string,
): Promise<{ server: Server; transport: AmqpTransport }> {
  const transport = await connectAmqp({ url, connectionName: instance });
  const unused = (): never => {
    throw new RpcError(Code.UNIMPLEMENTED, 'not part of the benchmark');
  };
  const implementation: ServiceImplementation<typeof TestServiceDefinition> = {
    echo: (request) => echoResponse(request, instance),
    sleep: unused,
    fail: unused,
    increment: unused,
    relay: unused,
  };
  const server = createServer({ transport, instance, prefetch: BENCH_PREFETCH }).add(
    TestServiceDefinition,
    implementation,
  );
  await server.start();
  return { server, transport };
}

/** Warren client: the generated typed client over one AMQP connection. */
export async function startWarrenClient(
  url: string,
  name: string,
): Promise<{ call: BenchCall; transport: AmqpTransport }> {
  const transport = await connectAmqp({ url, connectionName: name });
  const client = createClient(TestServiceDefinition, transport);
  const request = benchRequest();
  return { call: () => client.echo(request), transport };
}
