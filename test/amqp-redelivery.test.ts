import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient, RpcError } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { startTestServer, type ChildScript } from './support/child-process.js';

// A server process killed by its PID mid-request: the broker redelivers what it held.
describe('server killed mid-request', () => {
  let vhost: TestVhost;
  let transport: AmqpTransport;
  const children: ChildScript[] = [];

  beforeAll(async () => {
    vhost = await createTestVhost('redelivery');
    transport = await connectAmqp({ url: vhost.url });
  });

  afterAll(async () => {
    for (const child of children) child.kill();
    await Promise.all(children.map((c) => c.exited));
    await transport.close();
    await vhost.remove();
  });

  it('reruns an idempotent call on the surviving instance within its deadline, and refuses to rerun a non-idempotent one', async () => {
    const doomed = await startTestServer(vhost.url, 'doomed');
    children.push(doomed);
    const client = createClient(TestServiceDefinition, transport);
    const started = Date.now();
    const idempotent = client.sleep({ millis: 2500 }, { timeoutMs: 10_000 });
    const unsafe = client
      .increment({ counter: 'orders', delayMs: 2500 }, { timeoutMs: 10_000 })
      .catch((error: unknown) => error);
    await doomed.waitFor(/^started sleep /);
    await doomed.waitFor(/^started increment /);
    // freeze it so it cannot finish while the survivor starts (however slow the machine), then kill it
    doomed.kill('SIGSTOP');
    const survivor = await startTestServer(vhost.url, 'survivor');
    children.push(survivor);
    doomed.kill('SIGKILL');
    await doomed.exited;

    const reply = await idempotent;
    expect(reply.instance).toBe('survivor');
    expect(Date.now() - started).toBeLessThan(10_000);
    const error = await unsafe;
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(Code.ABORTED);
    expect(survivor.lines.some((line) => line.startsWith('started sleep '))).toBe(true);
    expect(survivor.lines.some((line) => line.startsWith('started increment '))).toBe(false);
    const after = await client.increment({ counter: 'orders' });
    expect(after.instance).toBe('survivor');
  });
});
