import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, connectAmqp, createClient } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { expectNoHandleLeak, expectTransportSettled, takeLeakProbe, type LeakProbe } from './support/leak-check.js';
import { startTestServer, type ChildScript } from './support/child-process.js';

// Real server processes, frozen or asked to stop, by their PID.
describe('server processes', () => {
  let vhost: TestVhost;
  let transport: AmqpTransport;
  const children: ChildScript[] = [];
  let probe: LeakProbe;

  beforeAll(async () => {
    probe = takeLeakProbe();
    vhost = await createTestVhost('process');
    transport = await connectAmqp({ url: vhost.url });
  });

  afterAll(async () => {
    for (const child of children) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await Promise.all(children.map((c) => c.exited));
    await transport.close();
    await vhost.remove();
    await expectNoHandleLeak(probe);
  });

  it('moves the requests of a frozen (SIGSTOP) server to a healthy one once heartbeats notice', async () => {
    const frozen = await startTestServer(vhost.url, 'frozen', { HEARTBEAT: '1' });
    children.push(frozen);
    const client = createClient(TestServiceDefinition, transport);
    const sentAt = Date.now();
    const pending = client.sleep({ millis: 300 }, { timeoutMs: 15_000 });
    await frozen.waitFor(/^started sleep /);
    frozen.kill('SIGSTOP');
    const healthy = await startTestServer(vhost.url, 'healthy');
    children.push(healthy);
    const reply = await pending;
    expect(reply.instance).toBe('healthy');
    console.info(`frozen server: request answered by another instance after ${Date.now() - sentAt} ms`);
    frozen.kill('SIGCONT');
    // the thawed process finds its connection gone; its late reply goes nowhere and it does not crash the caller
    expect((await client.echo({ text: 'after thaw' })).text).toBe('after thaw');
    await expectTransportSettled(transport, { channels: 1 });
  });

  it('drains on SIGTERM: in-flight requests are answered, then the process exits 0', async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    const definition = TestServiceDefinition;
    const draining = await startTestServer(vhost.url, 'draining');
    children.push(draining);
    const client = createClient(definition, transport);
    const calls = Array.from({ length: 5 }, () => client.sleep({ millis: 700 }, { timeoutMs: 10_000 }));
    await until(() => draining.lines.filter((l) => l.startsWith('started sleep')).length === 5);
    draining.kill('SIGTERM');
    await draining.waitFor(/^draining on SIGTERM/);
    const replies = await Promise.all(calls);
    expect(new Set(replies.map((r) => r.instance))).toEqual(new Set(['draining']));
    expect(await draining.exited).toBe(0);
    await expectTransportSettled(transport, { channels: 1 });
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
