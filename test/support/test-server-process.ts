/**
 * A TestService server as a real child process, for kill and load tests.
 * Env: AMQP_URL, INSTANCE, PREFETCH, MAX_DELIVERIES, QUEUE_TYPE, HEARTBEAT (seconds). Prints `ready <instance>` once serving,
 * then one `started <method> <messageId>` line per handler start.
 */
import { closeOnSignals, connectAmqp, createServer } from '../../core/index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { testService } from '../../core/testing/test-service.js';

const instance = process.env['INSTANCE'] ?? `child-${process.pid}`;
const transport = await connectAmqp({
  connectionName: instance,
  heartbeatSeconds: Number(process.env['HEARTBEAT'] ?? 10),
});
const { implementation } = testService(instance, transport);
const announced = new Proxy(implementation, {
  get(target, key: string) {
    const handler = (target as Record<string, (...args: any[]) => unknown>)[key]!;
    return (request: { crashProcess?: boolean }, ctx: { messageId: string }) => {
      process.stdout.write(`started ${key} ${ctx.messageId}\n`);
      if (request.crashProcess) process.exit(70);
      return handler.call(target, request, ctx);
    };
  },
});
const server = createServer({
  transport,
  instance,
  prefetch: Number(process.env['PREFETCH'] ?? 64),
  maxDeliveries: Number(process.env['MAX_DELIVERIES'] ?? 5),
  queueType: process.env['QUEUE_TYPE'] === 'quorum' ? 'quorum' : 'classic',
}).add(TestServiceDefinition, announced);
await server.start();
process.stdout.write(`ready ${instance}\n`);
closeOnSignals([server, transport], { onSignal: (signal) => process.stdout.write(`draining on ${signal}\n`) });
