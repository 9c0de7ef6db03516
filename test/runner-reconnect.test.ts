import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, connectAmqp, createClient } from '../core/index.js';
import { TestServiceDefinition } from '../core/testing.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { runScript, type ChildScript } from './support/child-process.js';
import { createTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const script = new URL('./support/runner-service-process.ts', import.meta.url).pathname;

// runService (warren) in a real process whose broker connection goes through a proxy the test cuts.
describe('runService', () => {
  let vhost: TestVhost;
  let proxy: TcpProxy;
  let transport: AmqpTransport;
  let child: ChildScript | undefined;

  beforeAll(async () => {
    vhost = await createTestVhost('runner');
    proxy = createTcpProxy();
    await proxy.start(Number(new URL(vhost.url).port || 5672));
    transport = await connectAmqp({ url: vhost.url });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await child?.exited;
    await transport.close();
    await proxy.close();
    await vhost.remove();
  });

  it('keeps running through a lost broker connection, serves again after it, and stops cleanly on SIGTERM', async () => {
    const proxied = new URL(vhost.url);
    proxied.port = String(proxy.port);
    child = runScript(script, { AMQP_URL: proxied.href, WARREN_LOG_LEVEL: 'info', WARREN_MESH_REPORT_MS: '0' });
    await child.waitFor(/^ready runner$/, 30_000);
    const client = createClient(TestServiceDefinition, transport, { timeoutMs: 10_000 });
    expect((await client.echo({ text: 'before' })).text).toBe('before');

    proxy.cut();
    await child.waitFor(/broker connection lost; reconnecting/, 15_000);
    await child.waitFor(/reconnected; topology restored/, 30_000);
    expect((await client.echo({ text: 'after' })).text).toBe('after');

    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    const logs = child.lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    const stopping = logs.findIndex((entry) => /stopping/.test(entry.msg));
    expect(stopping).toBeGreaterThan(0);
    expect(logs.slice(stopping).filter((entry) => entry.level >= 50)).toEqual([]); // a clean stop logs no error
  });
});
