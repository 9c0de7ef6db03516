import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Code,
  createEventBus,
  createMemoryDedupStore,
  createServer,
  deduplicate,
  RpcError,
  type Server,
} from '../core/index.js';
import { loadProtos } from '../core/tooling.js';
import { createGateway, type Gateway } from '../gateway/create-gateway.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { Tick } from '../gen/warren/test/v1/test_events.js';
import { CallLedger } from './support/call-ledger.js';
import {
  connectToCluster,
  eventually,
  outcomesByCode,
  startLoad,
  type ClusterTransport,
} from './support/cluster-mesh.js';
import { call, createRecordingLogger } from './support/gateway-harness.js';
import { testService, type TestServiceLedger } from '../core/testing/test-service.js';
import { startThrowawayCluster, type ThrowawayCluster } from './support/throwaway-cluster.js';

const CALL_TIMEOUT_MS = 30_000;
/**
 * What an unsafe call in flight at a node loss may end with: OK, UNAVAILABLE (its caller's connection dropped: may
 * have run) or ABORTED (its server's connection dropped and the request came back: may have run, not run again).
 */
const MAY_HAVE_RUN: ReadonlySet<Code> = new Set([Code.OK, Code.UNAVAILABLE, Code.ABORTED]);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every node of a 3-node cluster (throwaway nodes) is restarted in turn, gracefully (SIGTERM: the node closes its
 * client connections with CONNECTION_FORCED and hands its quorum queue leaderships over), while HTTP clients call
 * through the gateway, a client calls directly and events flow to a group of two subscribers. Each node is back
 * and the cluster whole before the next one goes.
 */
describe('a rolling restart of a 3-node cluster under steady load', () => {
  let cluster: ThrowawayCluster;
  const opened: ClusterTransport[] = [];
  const servers: Server[] = [];
  let gateway: Gateway | undefined;

  beforeAll(async () => {
    cluster = await startThrowawayCluster({ label: 'rolling' });
  }, 240_000);

  afterAll(async () => {
    await gateway?.close().catch(() => undefined);
    for (const server of servers) await server.close().catch(() => undefined);
    for (const { transport } of opened) await transport.close().catch(() => undefined);
    await cluster?.remove();
    expect(cluster?.processes() ?? []).toEqual([]);
  }, 120_000);

  it('loses no idempotent call (gateway or client) and no event; no unsafe call runs twice', async () => {
    const connect = async (name: string, node: number): Promise<ClusterTransport> => {
      const connected = await connectToCluster(cluster, name, cluster.nodes[node]);
      opened.push(connected);
      return connected;
    };
    const ledgers: TestServiceLedger[] = [];
    for (const [instance, node] of [
      ['a', 0],
      ['b', 1],
    ] as const) {
      const { implementation, ledger } = testService(instance);
      const server = createServer({
        transport: (await connect(`rolling-server-${instance}`, node)).transport,
        instance,
        prefetch: 32,
      }).add(TestServiceDefinition, implementation);
      await server.start();
      servers.push(server);
      ledgers.push(ledger);
    }
    gateway = createGateway({
      transport: (await connect('rolling-gateway', 2)).transport,
      protos: await loadProtos({ root: 'proto' }),
      logger: createRecordingLogger(),
      expose: ['*'],
      mesh: false,
    });
    const base = `http://127.0.0.1:${(await gateway.listen(0, '127.0.0.1')).port}`;
    const run = `rolling-${Date.now()}`;
    const handled = new Map<number, number>();
    let deliveries = 0;
    const store = createMemoryDedupStore(); // one store per group, shared by its instances (a table with a unique key, in a service)
    for (const node of [0, 1]) {
      const bus = createEventBus({
        transport: (await connect(`rolling-subscriber-${node}`, node)).transport,
        service: 'rolling',
      });
      await bus.subscribe(
        Tick,
        deduplicate<Tick>((tick) => {
          if (tick.run === run) handled.set(Number(tick.seq), (handled.get(Number(tick.seq)) ?? 0) + 1);
        }, store),
        { group: 'rolling' },
      );
      await bus.subscribe(Tick, (tick) => void (tick.run === run && deliveries++), { group: 'rolling-raw' });
    }
    const publisher = createEventBus({
      transport: (await connect('rolling-publisher', 2)).transport,
      service: 'rolling',
    });
    const client = await connect('rolling-client', 1);

    let phase = 'steady';
    let sending = true;
    const confirmed: number[] = [];
    let publishRetries = 0;
    const publishing = (async () => {
      for (let seq = 0; sending; seq++) {
        for (let attempt = 0; attempt < 30; attempt++) {
          try {
            await publisher.publish(Tick, { run, seq }, { messageId: `${run}-${seq}`, timeoutMs: CALL_TIMEOUT_MS });
            confirmed.push(seq);
            break;
          } catch {
            publishRetries++; // published again with the same id: subscribers de-duplicate by it
            await pause(200);
          }
        }
        await pause(20);
      }
    })();
    const load = startLoad(client.transport, TestServiceDefinition, {
      inFlight: 20,
      timeoutMs: CALL_TIMEOUT_MS,
      phase: () => phase,
    });
    const viaGateway = new CallLedger();
    const httpStatuses = new Map<number, number>();
    const gatewayWorkers = Array.from({ length: 4 }, async () => {
      while (sending) {
        await viaGateway.track(`gateway-sleep/${phase}`, CALL_TIMEOUT_MS, async () => {
          const answer = await call(base, 'POST', '/rpc/warren.test.v1.TestService/Sleep', {
            body: '{"millis":5}',
            headers: { 'x-warren-timeout-ms': String(CALL_TIMEOUT_MS) },
          });
          httpStatuses.set(answer.status, (httpStatuses.get(answer.status) ?? 0) + 1);
          if (answer.status !== 200) throw new RpcError(Code.UNKNOWN, `HTTP ${answer.status}: ${answer.text}`);
        });
      }
    });
    await pause(3000);

    const restarts: Record<string, number>[] = [];
    for (const node of cluster.nodes) {
      phase = `restart-${node.nodeName.split('-')[3]}`;
      const startedAt = Date.now();
      await node.stop('graceful');
      const stoppedMs = Date.now() - startedAt;
      await node.start();
      await eventually(
        async () => (await cluster.runningNodes()).length === 3,
        'the cluster to be whole again',
        120_000,
      );
      restarts.push({ stoppedMs, wholeAgainMs: Date.now() - startedAt });
      await pause(2000);
    }
    phase = 'after';
    await pause(3000);
    sending = false;
    const outcomes = await load.stop();
    await Promise.all([publishing, ...gatewayWorkers]);
    await eventually(() => confirmed.every((seq) => handled.has(seq)), 'every confirmed event to be handled', 60_000);
    await pause(500);

    load.calls.expectComplete(1000);
    viaGateway.expectComplete(1000);
    expect(viaGateway.outcomes.filter((o) => o.code !== Code.OK)).toEqual([]);
    expect(outcomes.filter((o) => o.kind.startsWith('idempotent/') && o.code !== Code.OK)).toEqual([]);
    expect(outcomes.filter((o) => o.kind.startsWith('unsafe/') && !MAY_HAVE_RUN.has(o.code))).toEqual([]);
    const runs = new Map<string, number>();
    for (const ledger of ledgers)
      for (const [counter, value] of ledger.counters) runs.set(counter, (runs.get(counter) ?? 0) + value);
    expect([...runs].filter(([, count]) => count > 1)).toEqual([]);
    expect([...handled.values()].filter((times) => times !== 1)).toEqual([]);
    expect(handled.size).toBeGreaterThanOrEqual(confirmed.length);
    expect(outcomes.filter((o) => o.kind.startsWith('idempotent/after')).length).toBeGreaterThan(0);
    console.info(
      'cluster: rolling restart:',
      JSON.stringify({
        restarts,
        outcomes: outcomesByCode(outcomes),
        gateway: { calls: viaGateway.outcomes.length, byHttpStatus: Object.fromEntries(httpStatuses) },
        events: {
          confirmed: confirmed.length,
          handledOnce: handled.size,
          rawGroupDeliveries: deliveries,
          publishAttemptsFailed: publishRetries,
        },
      }),
    );
  }, 420_000);
});
