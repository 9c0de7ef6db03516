import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, connectAmqp, createClient, RpcError } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, listQueues, type TestVhost } from './support/broker.js';
import { runScript, testServerScript, type ChildScript } from './support/child-process.js';
import { expectNoHandleLeak, expectTransportSettled, takeLeakProbe, type LeakProbe } from './support/leak-check.js';

// A request that kills every instance that takes it must not be redelivered forever.
describe.each(['classic', 'quorum'] as const)('poison requests on %s queues', (queueType) => {
  const children: ChildScript[] = [];
  let vhost: TestVhost | undefined;
  let probe: LeakProbe;

  beforeAll(() => {
    probe = takeLeakProbe();
  });

  afterAll(async () => {
    for (const child of children) child.kill();
    await Promise.all(children.map((child) => child.exited));
    await vhost?.remove();
    await expectNoHandleLeak(probe);
  });

  it('dead-letters the request after maxDeliveries crashes and answers the caller with INTERNAL', async () => {
    vhost = await createTestVhost(`poison-${queueType}`);
    const env = { MAX_DELIVERIES: '3', QUEUE_TYPE: queueType };
    // a supervisor that restarts the server whenever it dies, as a process manager would
    let stopped = false;
    let firstReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (firstReady = resolve));
    const supervise = async (): Promise<void> => {
      while (!stopped) {
        // the poison request may kill a child before it even prints `ready`
        const child = runScript(testServerScript, {
          AMQP_URL: vhost!.url,
          INSTANCE: `poison-${children.length}`,
          ...env,
        });
        children.push(child);
        void child.waitFor(/^ready /).then(firstReady, () => undefined);
        if (stopped) child.kill();
        await child.exited;
      }
    };
    const supervisor = supervise();
    await ready;
    const transport = await connectAmqp({ url: vhost.url });
    try {
      const client = createClient(TestServiceDefinition, transport, { retry: false });
      const sentAt = Date.now();
      const error = await client.sleep({ millis: 10, crashProcess: true }, { timeoutMs: 15_000 }).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe(Code.INTERNAL);
      expect((error as RpcError).rawMessage).toContain('taken out of service');
      const crashed = children.filter((child) => child.lines.some((line) => line.startsWith('started sleep')));
      expect(crashed).toHaveLength(3);
      console.info(
        `${queueType}: dead-lettered after ${crashed.length} crashes, caller answered in ${Date.now() - sentAt} ms`,
      );
      // a quorum queue (the dead-letter queue of a quorum service is one too) reports its count a few seconds late
      const deadCount = async (): Promise<number | undefined> =>
        (await listQueues(vhost!.name)).find((q) => q.name === 'rpc.warren.test.v1.TestService.dead')?.messages;
      const until = Date.now() + 15_000;
      let dead = await deadCount();
      while (dead !== 1 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        dead = await deadCount();
      }
      expect(dead).toBe(1);
      // the service is healthy again for everything else
      expect((await client.echo({ text: 'fine' })).text).toBe('fine');
      await expectTransportSettled(transport, { channels: 1 });
    } finally {
      stopped = true;
      await transport.close();
      for (const child of children) child.kill();
      await supervisor;
    }
  });
});
