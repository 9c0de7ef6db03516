import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionManager } from '../core/amqp/connection-manager.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { waitFor } from '../core/testing/events-waits.js';
import { createRecordingLogger } from './support/gateway-harness.js';
import { createTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

// Restoring the topology after a reconnection can hang (RabbitMQ 3.10 leaves `basic.consume` on a leaderless
// quorum queue unanswered for 60 s). The connection manager must not sit on such a connection reporting
// "connected" while nothing is served: past `setupTimeoutMs` it drops it and tries the next one.
describe('reconnection whose topology restore hangs', () => {
  let vhost: TestVhost;
  let proxy: TcpProxy;

  beforeAll(async () => {
    vhost = await createTestVhost('setup-timeout');
    proxy = createTcpProxy();
    await proxy.start(Number(new URL(vhost.url).port || 5672));
  });

  afterAll(async () => {
    await proxy.close();
    await vhost.remove();
  });

  it('drops a connection whose setup outlasts setupTimeoutMs and reconnects until a setup completes', async () => {
    const url = new URL(vhost.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const logger = createRecordingLogger();
    const manager = new ConnectionManager({
      urls: [url.toString()],
      heartbeatSeconds: 5,
      connectionName: 'setup-timeout',
      socketOptions: undefined,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100, setupTimeoutMs: 300 },
      logger,
    });
    await manager.start();
    let setups = 0;
    const seenWhileRestoring: unknown[] = [];
    // the first two restores hang forever, the third completes
    manager.onReconnect(async () => {
      setups++;
      seenWhileRestoring.push(manager.current); // not "connected" before its topology is back
      if (setups <= 2) await new Promise<never>(() => undefined);
    });
    const cutAt = Date.now();
    proxy.cut();
    await waitFor(() => manager.current === undefined, 'the loss noticed', 5_000);
    const restored = await manager.whenConnected(AbortSignal.timeout(15_000)).then(() => Date.now() - cutAt);
    await waitFor(() => manager.reconnectCount === 1, 'the third connection restored', 5_000);
    const timeouts = logger.entries.filter(
      (entry) =>
        entry.msg.startsWith('could not restore topology') &&
        String((entry.fields['err'] as Error).message).includes('longer than 300 ms'),
    );
    console.info(
      `setup timeout: restored after ${restored} ms, ${timeouts.length} connections dropped for a hanging setup`,
    );
    expect(setups).toBe(3);
    expect(seenWhileRestoring).toEqual([undefined, undefined, undefined]);
    expect(manager.current).toBeDefined();
    expect(timeouts).toHaveLength(2);
    expect(restored).toBeGreaterThanOrEqual(600);
    await manager.close();
  });
});
