import { connect as amqpConnect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createClient,
  createServer,
  RpcError,
  type Server,
} from '../core/index.js';
import { serviceQueue } from '../core/protocol/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, listQueues, type TestVhost } from './support/broker.js';
import { expectNoHandleLeak, expectTransportSettled, takeLeakProbe, type LeakProbe } from './support/leak-check.js';
import { testService } from '../core/testing/test-service.js';

// An operator (or a policy) deletes a service queue under a running server: the broker cancels the
// consumer. The server must declare the queue again and go on serving, not sit there consuming nothing.
describe('service queue deleted under a running server', () => {
  let vhost: TestVhost;
  let probe: LeakProbe;
  let serverTransport: AmqpTransport;
  let clientTransport: AmqpTransport;
  let server: Server;

  beforeAll(async () => {
    probe = takeLeakProbe();
    vhost = await createTestVhost('queue-deleted');
    serverTransport = await connectAmqp({ url: vhost.url });
    clientTransport = await connectAmqp({ url: vhost.url });
    server = createServer({ transport: serverTransport, instance: 'redeclare' }).add(
      TestServiceDefinition,
      testService('redeclare').implementation,
    );
    await server.start();
  });

  afterAll(async () => {
    await server.close();
    await serverTransport.close();
    await clientTransport.close();
    await vhost.remove();
    await expectNoHandleLeak(probe);
  });

  it('declares the queue again and serves calls after the broker cancelled its consumer', async () => {
    const client = createClient(TestServiceDefinition, clientTransport, { retry: false });
    expect((await client.echo({ text: 'before' })).text).toBe('before');

    const admin = await amqpConnect(vhost.url);
    const channel = await admin.createChannel();
    await channel.deleteQueue(serviceQueue(TestServiceDefinition.fullName));
    await admin.close();

    // right after the delete a call may find no queue (UNAVAILABLE at once); within seconds it is served again
    const outcomes: string[] = [];
    const started = Date.now();
    let answered = '';
    while (Date.now() - started < 15_000) {
      try {
        answered = (await client.echo({ text: 'after' }, { timeoutMs: 2_000 })).text;
        break;
      } catch (error) {
        expect(error).toBeInstanceOf(RpcError);
        expect([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED]).toContain((error as RpcError).code);
        outcomes.push(Code[(error as RpcError).code]!);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    console.info(
      `queue deleted: served again after ${Date.now() - started} ms (${outcomes.length} calls refused first: ${[...new Set(outcomes)].join(', ') || 'none'})`,
    );
    expect(answered).toBe('after');
    const queue = (await listQueues(vhost.name)).find(
      (entry) => entry.name === serviceQueue(TestServiceDefinition.fullName),
    );
    expect(queue?.consumers).toBe(1);
    await expectTransportSettled(serverTransport, { channels: 1 }); // the new consumer channel; the cancelled one is closed
  });
});
