import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient, createServer, type Server } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { CallLedger } from './support/call-ledger.js';
import { expectNoHandleLeak, expectTransportSettled, takeLeakProbe, type LeakProbe } from './support/leak-check.js';
import { testService } from '../core/testing/test-service.js';

describe('overload', () => {
  let vhost: TestVhost;
  const transports: AmqpTransport[] = [];
  const servers: Server[] = [];
  let probe: LeakProbe;

  beforeAll(async () => {
    probe = takeLeakProbe();
    vhost = await createTestVhost('overload');
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    for (const transport of transports) await transport.close();
    await vhost.remove();
    await expectNoHandleLeak(probe);
  });

  async function connect(): Promise<AmqpTransport> {
    const transport = await connectAmqp({ url: vhost.url });
    transports.push(transport);
    return transport;
  }

  it('answers RESOURCE_EXHAUSTED at once when the service queue is full, never dropping queued requests', async () => {
    const definition = { ...TestServiceDefinition, fullName: 'warren.test.v1.BoundedService' };
    const { implementation, ledger } = testService('bounded');
    const server = createServer({
      transport: await connect(),
      instance: 'bounded',
      prefetch: 1,
      maxQueueLength: 5,
    }).add(definition, implementation);
    await server.start();
    servers.push(server);
    const client = createClient(definition, await connect());
    const calls = new CallLedger();
    const outcomes = [];
    for (let i = 0; i < 20; i++) {
      outcomes.push(calls.track('sleep', 10_000, () => client.sleep({ millis: 150 }, { timeoutMs: 10_000 })));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const settled = await Promise.all(outcomes);
    calls.expectComplete(100);
    const ok = settled.filter((o) => o.code === Code.OK);
    const refused = settled.filter((o) => o.code === Code.RESOURCE_EXHAUSTED);
    expect(ok.length + refused.length).toBe(20);
    expect(refused.length).toBeGreaterThan(0);
    // what was queued first is served: reject-publish refuses newcomers, it never drops the oldest
    expect(ok.map((o) => o.id)).toEqual([...ok.map((o) => o.id)].sort((a, b) => a - b));
    expect(ok[0]!.id).toBe(0);
    expect(ledger.started).toHaveLength(ok.length);
    // refusals are prompt: they come back long before the queue drains
    const firstOkDone = Math.min(...ok.map((o) => o.settledAt));
    expect(refused.every((o) => o.settledAt <= firstOkDone + 1000)).toBe(true);
    for (const transport of transports) await expectTransportSettled(transport, { channels: 1 });
  });

  it('bounds load amplification during an outage: the retry budget caps retries', async () => {
    const retries: number[] = [];
    const definition = { ...TestServiceDefinition, fullName: 'warren.test.v1.OutageService' };
    const transport = await connect();
    const client = createClient(definition, transport, {
      retry: { initialBackoffMs: 1 },
      onRetry: (_m, attempt) => retries.push(attempt),
    });
    const calls = new CallLedger();
    await Promise.all(
      Array.from({ length: 200 }, () => calls.track('echo', 5000, () => client.echo({}, { timeoutMs: 5000 }))),
    );
    calls.expectComplete(100);
    expect(calls.outcomes.every((o) => o.code === Code.UNAVAILABLE)).toBe(true);
    // 200 calls, 3 attempts allowed each: without a budget 400 retries; the budget (10 tokens) allows at most a handful
    expect(retries.length).toBeLessThanOrEqual(10);
    await expectTransportSettled(transport, { channels: 1 });
    console.info(
      `outage: 200 calls, ${retries.length} retries (amplification ${((200 + retries.length) / 200).toFixed(2)}x)`,
    );
  });
});
