import { afterEach, describe, expect, it } from 'vitest';
import { BreakerState, type InstanceReport } from '../../gen/warren/mesh/v1/mesh.js';
import { OrderCreated } from '../../gen/warren/test/v1/test_events.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { createClient } from '../rpc/client.js';
import { Code } from '../protocol/code.js';
import { createEventBus } from '../events/event-bus.js';
import { HEALTH_CHECK_PATH } from '../protocol/rpc-names.js';
import { createMemoryTransport } from '../memory/memory-transport.js';
import { RpcError } from '../protocol/rpc-error.js';
import { createServer } from '../rpc/server.js';
import type { Transport } from '../transport.js';
import { latencyQuantile } from './histogram.js';
import { createMeshReporter, type MeshReporter } from './reporter.js';

const SERVICE = TestServiceDefinition.fullName;

/** A sink that keeps every report. */
function collecting(): {
  reports: InstanceReport[];
  sink: { send(report: InstanceReport): Promise<void>; close(): Promise<void> };
} {
  const reports: InstanceReport[] = [];
  return { reports, sink: { send: async (report) => void reports.push(report), close: async () => undefined } };
}

/**
 * Calls per method over several reports (an automatic report may go out
 * between a test's calls and its flush on a busy machine).
 */
function totals(
  reports: readonly InstanceReport[],
  side: 'served' | 'called',
): Record<string, { calls: number; errors: Record<number, number> }> {
  const sums: Record<string, { calls: number; errors: Record<number, number> }> = {};
  for (const report of reports) {
    for (const stats of report[side]) {
      const sum = (sums[stats.method] ??= { calls: 0, errors: {} });
      sum.calls += stats.calls;
      for (const [code, count] of Object.entries(stats.errors))
        sum.errors[Number(code)] = (sum.errors[Number(code)] ?? 0) + Number(count);
    }
  }
  return sums;
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function servedMesh(
  intervalMs = 60_000,
): Promise<{ reporter: MeshReporter<Transport>; reports: InstanceReport[]; transport: Transport }> {
  const inner = createMemoryTransport();
  const { reports, sink } = collecting();
  const reporter = createMeshReporter({
    transport: inner,
    app: 'tester',
    instance: 'tester-1',
    sink,
    intervalMs,
    breakers: () => [
      ['payments', 'open'],
      ['shop.x.v1.S', 'half-open'],
    ],
  });
  const server = createServer({ transport: reporter.transport, instance: reporter.instance }).add(
    TestServiceDefinition,
    {
      echo: (request) => ({ text: request.text }),
      sleep: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, request.millis));
        return { sleptMs: request.millis };
      },
      fail: (request) => {
        throw new RpcError(request.code as Code, request.message);
      },
      increment: () => ({ value: 1 }),
      relay: () => ({}),
    },
  );
  await server.start();
  closers.push(
    () => inner.close(),
    () => server.close(),
    () => reporter.close(),
  );
  return { reporter, reports, transport: reporter.transport };
}

describe('mesh reporter', () => {
  it('reports calls served and sent per method, with failures by code and latency', async () => {
    const { reporter, reports, transport } = await servedMesh();
    const client = createClient(TestServiceDefinition, transport, { retry: false });
    await Promise.all([client.echo({ text: 'a' }), client.echo({ text: 'b' }), client.sleep({ millis: 30 })]);
    await expect(client.fail({ code: Code.NOT_FOUND, message: 'no' })).rejects.toMatchObject({ code: Code.NOT_FOUND });
    await expect(client.fail({ code: Code.INTERNAL, message: 'boom' })).rejects.toMatchObject({ code: Code.INTERNAL });
    await reporter.flush();

    const report = reports.at(-1)!;
    expect(report).toMatchObject({
      app: 'tester',
      instance: 'tester-1',
      services: [SERVICE],
      stopping: false,
      intervalMs: 60_000,
    });
    const served = totals(reports, 'served');
    expect(served[`${SERVICE}/Echo`]).toEqual({ calls: 2, errors: {} });
    expect(served[`${SERVICE}/Fail`]).toEqual({ calls: 2, errors: { [Code.NOT_FOUND]: 1, [Code.INTERNAL]: 1 } });
    expect(served[`${SERVICE}/Sleep`]).toEqual({ calls: 1, errors: {} });
    const sleep = reports.flatMap((one) => one.served).find((stats) => stats.method === `${SERVICE}/Sleep`)!;
    expect(
      latencyQuantile(
        Object.entries(sleep.latency!.buckets).map(([bucket, count]) => [Number(bucket), count]),
        0.99,
      ),
    ).toBeGreaterThan(25);
    expect(sleep.latency!.sumMs).toBeGreaterThanOrEqual(25);
    const called = totals(reports, 'called');
    expect(called[`${SERVICE}/Echo`]).toEqual({ calls: 2, errors: {} });
    expect(called[`${SERVICE}/Fail`]).toEqual({ calls: 2, errors: { [Code.NOT_FOUND]: 1, [Code.INTERNAL]: 1 } });
    expect(report.breakers).toEqual([
      { target: 'payments', state: BreakerState.BREAKER_STATE_OPEN },
      { target: 'shop.x.v1.S', state: BreakerState.BREAKER_STATE_HALF_OPEN },
    ]);

    // Later reports cover only what happened since.
    const before = reports.length;
    await client.echo({ text: 'c' });
    await reporter.flush();
    const later = reports.slice(before);
    expect(totals(later, 'served')).toEqual({ [`${SERVICE}/Echo`]: { calls: 1, errors: {} } });
    const next = reports.at(-1)!;
    expect(next.sequence).toBe(reports.length);
    expect(next.windowMs).toBe(next.sentAtMs - reports.at(-2)!.sentAtMs);
  });

  it('leaves health checks out, counts unknown methods as <service>/?, and calls that never got an answer by their code', async () => {
    const { reporter, reports, transport } = await servedMesh();
    const ask = (method: string) =>
      transport.request(
        {
          service: SERVICE,
          method,
          contentType: 'application/json',
          body: Buffer.from('{}'),
          metadata: {},
          deadline: Date.now() + 2000,
          messageId: method,
        },
        new AbortController().signal,
      );
    expect((await ask(HEALTH_CHECK_PATH)).status).toBe(Code.OK);
    expect((await ask('garbage/Nope')).status).toBe(Code.UNIMPLEMENTED);
    await expect(
      transport.request(
        {
          service: 'no.such.v1.Service',
          method: 'no.such.v1.Service/M',
          contentType: 'application/json',
          body: Buffer.from('{}'),
          metadata: {},
          deadline: Date.now() + 2000,
          messageId: 'x',
        },
        new AbortController().signal,
      ),
    ).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    await reporter.flush();
    expect(totals(reports, 'served')).toEqual({ [`${SERVICE}/?`]: { calls: 1, errors: { [Code.UNIMPLEMENTED]: 1 } } });
    expect(totals(reports, 'called')).toEqual({
      'garbage/Nope': { calls: 1, errors: { [Code.UNIMPLEMENTED]: 1 } },
      'no.such.v1.Service/M': { calls: 1, errors: { [Code.UNAVAILABLE]: 1 } },
    });
  });

  it('reports event deliveries per group, type and publisher, and the events it dead-lettered', async () => {
    const { reporter, reports, transport } = await servedMesh();
    const events = createEventBus({ transport, service: 'tester' });
    closers.push(() => events.close());
    let calls = 0;
    let flaked = false;
    await events.subscribe(
      OrderCreated,
      async (order) => {
        calls++;
        if (order.orderId.startsWith('bad')) throw new RpcError(Code.INVALID_ARGUMENT, `cannot take ${order.orderId}`);
        if (order.orderId === 'flaky-1' && !flaked) {
          flaked = true;
          throw new Error('try again');
        }
      },
      { group: 'audit', retryDelaysMs: [10] },
    );
    await events.publish(OrderCreated, { orderId: 'o-1' });
    await events.publish(OrderCreated, { orderId: 'bad-1' });
    await events.publish(OrderCreated, { orderId: 'flaky-1' });
    const handledSoFar = async (): Promise<number> => {
      await reporter.flush();
      return reports.flatMap((report) => report.handled).reduce((sum, stats) => sum + stats.handled, 0);
    };
    await expect.poll(handledSoFar).toBe(4);
    expect(calls).toBe(4);
    expect(reports.at(-1)!.groups).toEqual([{ group: 'audit', broadcast: false }]);
    const handled = reports.flatMap((report) => report.handled);
    expect(handled.reduce((sum, stats) => sum + stats.deadLettered, 0)).toBe(1);
    expect(handled.reduce((sum, stats) => sum + stats.retried, 0)).toBe(1);
    expect(
      handled.every(
        (stats) => stats.group === 'audit' && stats.type === OrderCreated.$type && stats.publisher === 'tester',
      ),
    ).toBe(true);
    expect(reports.flatMap((report) => report.deadLetters)).toEqual([
      expect.objectContaining({
        group: 'audit',
        type: OrderCreated.$type,
        publisher: 'tester',
        attempts: 1,
        reason: expect.stringContaining('cannot take bad-1'),
      }),
    ]);
  });

  it('reports on its own every interval, a change of what it serves at once, and says goodbye on close', async () => {
    const { reporter, reports } = await servedMesh(40);
    await expect.poll(() => reports.length, { timeout: 3000 }).toBeGreaterThanOrEqual(3);
    expect(reports.map((report) => report.sequence)).toEqual(reports.map((_, index) => index + 1));
    await reporter.close();
    await reporter.close();
    expect(reports.at(-1)!.stopping).toBe(true);
    const count = reports.length;
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(reports.length).toBe(count);
  });

  it('is off with intervalMs 0, and needs a sink on a transport that cannot publish', () => {
    const transport = createMemoryTransport();
    closers.push(() => transport.close());
    expect(createMeshReporter({ transport, app: 'quiet', intervalMs: 0 }).transport).toBe(transport);
    expect(() => createMeshReporter({ transport, app: 'loud' })).toThrow(/cannot carry mesh reports/);
    expect(() => createMeshReporter({ transport, app: ' ', intervalMs: 0 })).toThrow(/app name/);
    expect(() => createMeshReporter({ transport, app: 'x', intervalMs: -1 })).toThrow(/interval/);
  });
});
