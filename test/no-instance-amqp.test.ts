import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient, createServer, RpcError } from '../core/index.js';
import { TestServiceDefinition } from '../core/testing.js';
import { testService } from '../core/testing/test-service.js';
import { createTestVhost, type TestVhost } from './support/broker.js';

// A call to a service whose queue has no consumer (deployed once, all instances gone), on the real broker.
describe('a call nobody serves (AMQP)', () => {
  let vhost: TestVhost;
  let transport: AmqpTransport;

  beforeAll(async () => {
    vhost = await createTestVhost('no-instance');
    transport = await connectAmqp({ url: vhost.url });
  });

  afterAll(async () => {
    await transport.close();
    await vhost.remove();
  });

  it('says in its DEADLINE_EXCEEDED that no instance is serving, from one passive look at the queue', async () => {
    const server = createServer({ transport }).add(
      TestServiceDefinition,
      testService('gone', transport).implementation,
    );
    await server.start();
    await server.close();
    const error = await createClient(TestServiceDefinition, transport)
      .echo({ text: 'hi' }, { timeoutMs: 300 })
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(Code.DEADLINE_EXCEEDED);
    expect((error as RpcError).message).toMatch(/no instance of warren\.test\.v1\.TestService is serving/);
    expect(transport.connected).toBe(true); // the passive declare ran on a side channel of its own
  });
});
