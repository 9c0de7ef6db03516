/**
 * A TestService server as a real child process, for kill and load tests.
 * Env: AMQP_URL, INSTANCE, PREFETCH. Prints `ready <instance>` once serving,
 * then one `started <method> <messageId>` line per handler start.
 */
import { connectAmqp, createServer } from '../../core/index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { testService } from './test-service.js';

const instance = process.env['INSTANCE'] ?? `child-${process.pid}`;
const transport = await connectAmqp({ connectionName: instance });
const { implementation } = testService(instance, transport);
const announced = new Proxy(implementation, {
  get(target, key: string) {
    const handler = (target as Record<string, (...args: any[]) => unknown>)[key]!;
    return (request: unknown, ctx: { messageId: string }) => {
      process.stdout.write(`started ${key} ${ctx.messageId}\n`);
      return handler.call(target, request, ctx);
    };
  },
});
const server = createServer({ transport, instance, prefetch: Number(process.env['PREFETCH'] ?? 64) }).add(TestServiceDefinition, announced);
await server.start();
process.stdout.write(`ready ${instance}\n`);
const stop = async (): Promise<void> => {
  await server.close();
  await transport.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
