import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Code,
  createClient,
  createEventBus,
  createMemoryDedupStore,
  createServer,
  deduplicate,
  RpcError,
  type Server,
} from '../core/index.js';
import { loadProtos } from '../core/tooling.js';
import { createGateway } from '../gateway/create-gateway.js';
import { Tick } from '../gen/warren/test/v1/test_events.js';
import { CallLedger } from './support/call-ledger.js';
import {
  connectToCluster,
  eventually,
  longestGap,
  outcomesByCode,
  serviceNamed,
  startLoad,
  type ClusterTransport,
} from './support/cluster-mesh.js';
import { call, createRecordingLogger } from './support/gateway-harness.js';
import { testService, type TestServiceLedger } from '../core/testing/test-service.js';
import type { ThrowawayBroker } from './support/throwaway-broker.js';
import { startThrowawayCluster, type ThrowawayCluster } from './support/throwaway-cluster.js';

const CALL_TIMEOUT_MS = 30_000;
/**
 * What an unsafe call in flight at a node loss may end with: OK, UNAVAILABLE (its caller's connection dropped: may
 * have run) or ABORTED (its server's connection dropped and the request came back: may have run, not run again).
 */
const MAY_HAVE_RUN: ReadonlySet<Code> = new Set([Code.OK, Code.UNAVAILABLE, Code.ABORTED]);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** No unsafe request ran twice: each call has a counter of its own, counted across every instance. */
function twiceRun(ledgers: readonly TestServiceLedger[]): [string, number][] {
  const runs = new Map<string, number>();
  for (const ledger of ledgers)
    for (const [counter, value] of ledger.counters) runs.set(counter, (runs.get(counter) ?? 0) + value);
  return [...runs].filter(([, count]) => count > 1);
}

/**
 * One node of a 3-node RabbitMQ cluster (throwaway nodes: the shared broker is never touched) dies by SIGKILL
 * while the mesh runs on it with quorum queues. Each scenario brings the node back afterwards, so the next one
 * starts on a whole cluster.
 */
describe('a 3-node cluster loses a node', () => {
  let cluster: ThrowawayCluster;
  const opened: ClusterTransport[] = [];
  const servers: Server[] = [];

  const connect = async (name: string, first?: ThrowawayBroker): Promise<ClusterTransport> => {
    const connected = await connectToCluster(cluster, name, first);
    opened.push(connected);
    return connected;
  };
  const serve = async (on: ClusterTransport, name: string, instance: string): Promise<TestServiceLedger> => {
    const { implementation, ledger } = testService(instance);
    const server = createServer({ transport: on.transport, instance, prefetch: 32 }).add(
      serviceNamed(name),
      implementation,
    );
    await server.start();
    servers.push(server);
    return ledger;
  };
  /** Declares the service's queue from `node`, so its leader is there (RabbitMQ places it client-local), and leaves it unconsumed. */
  const declareOn = async (node: ThrowawayBroker, name: string): Promise<void> => {
    const declarer = await connect(`declare-${name}`, node);
    const server = createServer({ transport: declarer.transport, instance: 'declare' }).add(
      serviceNamed(name),
      testService('declare').implementation,
    );
    await server.start();
    await server.close();
  };
  const bringBack = async (node: ThrowawayBroker): Promise<number> => {
    const startedAt = Date.now();
    await node.start();
    await eventually(async () => (await cluster.runningNodes()).length === 3, 'the cluster to be whole again', 120_000);
    return Date.now() - startedAt;
  };

  beforeAll(async () => {
    cluster = await startThrowawayCluster({ label: 'loss' });
  }, 240_000);

  afterAll(async () => {
    for (const server of servers) await server.close().catch(() => undefined);
    for (const { transport } of opened) await transport.close().catch(() => undefined);
    await cluster?.remove();
    expect(cluster?.processes() ?? []).toEqual([]);
  }, 120_000);

  it("SIGKILL of the node leading a service's quorum queue with 100 calls in flight: idempotent calls all succeed, unsafe ones succeed or fail UNAVAILABLE, none runs twice", async () => {
    const name = 'ClusterLeaderService';
    const queue = `rpc.warren.test.v1.${name}`;
    await declareOn(cluster.nodes[2]!, name);
    const leader = (await cluster.leaderOf(queue))!;
    expect(leader).toBeDefined();
    const survivors = cluster.nodes.filter((node) => node !== leader);
    // servers and client on the surviving nodes: what is measured is the queue's failover, not a reconnection
    const ledgers = [
      await serve(await connect('leader-server-a', survivors[0]), name, 'a'),
      await serve(await connect('leader-server-b', survivors[1]), name, 'b'),
    ];
    const client = await connect('leader-client', survivors[0]);
    await createClient(serviceNamed(name), client.transport).echo({ text: 'warm-up' }, { timeoutMs: 10_000 });
    let phase = 'before';
    const load = startLoad(client.transport, serviceNamed(name), {
      inFlight: 100,
      timeoutMs: CALL_TIMEOUT_MS,
      phase: () => phase,
    });
    await pause(3000);

    const killedAt = Date.now();
    phase = 'leader-lost';
    await leader.stop('kill');
    let newLeader: ThrowawayBroker | undefined;
    await eventually(
      async () => {
        newLeader = await cluster.leaderOf(queue).catch(() => undefined);
        return newLeader !== undefined && newLeader !== leader;
      },
      'a new leader',
      60_000,
    );
    const electedMs = Date.now() - killedAt;
    await eventually(
      () => load.successes.some((at) => at > killedAt + electedMs),
      'a call to succeed after the election',
      60_000,
    );
    const firstSuccessAfterElectionMs =
      Math.min(...load.successes.filter((at) => at > killedAt + electedMs)) - killedAt;
    phase = 'after';
    await pause(3000);
    const outcomes = await load.stop();
    const stoppedAt = Date.now();
    const restartMs = await bringBack(leader);

    load.calls.expectComplete(1000);
    const of = (kind: string) => outcomes.filter((o) => o.kind.startsWith(kind));
    expect(of('idempotent/').filter((o) => o.code !== Code.OK)).toEqual([]);
    expect(of('unsafe/').filter((o) => !MAY_HAVE_RUN.has(o.code))).toEqual([]);
    expect(of('unsafe/after').filter((o) => o.code !== Code.OK)).toEqual([]);
    expect(twiceRun(ledgers)).toEqual([]);
    expect(of('idempotent/after').length).toBeGreaterThan(0);
    console.info(
      'cluster: leader of a service queue killed:',
      JSON.stringify({
        calls: outcomes.length,
        inFlight: 100,
        oldLeader: leader.nodeName,
        newLeader: newLeader?.nodeName,
        newLeaderListedByRabbitmqctlMs: electedMs,
        firstSuccessAfterKillMs: Math.min(...load.successes.filter((at) => at > killedAt)) - killedAt,
        firstSuccessAfterElectionMs,
        longestGapWithoutSuccessMs: longestGap(load.successes, killedAt, stoppedAt),
        killedNodeBackAndClusterWholeMs: restartMs,
        outcomes: outcomesByCode(outcomes),
      }),
    );
  }, 300_000);

  it('queued requests and events survive the loss of the node they were enqueued on', async () => {
    const name = 'ClusterBacklogService';
    const group = 'cluster-backlog';
    const target = cluster.nodes[0]!;
    const backlog = 20;
    await declareOn(target, name);
    // the group's queue, declared from the same node, then left without a consumer
    const declarer = await connect('backlog-events-declare', target);
    await (
      await createEventBus({ transport: declarer.transport, service: 'backlog' }).subscribe(Tick, () => undefined, {
        group,
      })
    ).close();
    expect((await cluster.leaderOf(`rpc.warren.test.v1.${name}`))?.nodeName).toBe(target.nodeName);
    expect((await cluster.leaderOf(`events.${group}`))?.nodeName).toBe(target.nodeName);

    const publisher = await connect('backlog-publisher', target);
    const caller = createClient(serviceNamed(name), publisher.transport, { retry: false });
    const run = `backlog-${Date.now()}`;
    const events = createEventBus({ transport: publisher.transport, service: 'backlog' });
    const published: string[] = [];
    for (let seq = 0; seq < backlog; seq++) published.push(await events.publish(Tick, { run, seq }));
    const calls = Array.from({ length: backlog }, (_, i) =>
      caller.increment({ counter: `backlog-${i}` }, { timeoutMs: 120_000 }).then(
        () => Code.OK,
        (error: { code?: Code }) => error.code,
      ),
    );
    await eventually(
      async () =>
        (await cluster.rabbitmqctl('list_queues', '--quiet', '--no-table-headers', 'name', 'messages')).includes(
          `rpc.warren.test.v1.${name}\t${backlog}`,
        ),
      'the requests to be queued',
      20_000,
    );
    await pause(2000); // replicated and flushed: RabbitMQ 3.10 syncs a quorum queue's log lazily

    await target.stop('kill');
    // the callers learn their connection is gone (UNAVAILABLE: may have run); their requests stay queued
    expect(new Set(await Promise.all(calls))).toEqual(new Set([Code.UNAVAILABLE]));
    const server = await connect('backlog-server', cluster.nodes[1]);
    const ledger = await serve(server, name, 'backlog');
    const handled = new Map<number, number>();
    const subscriber = await connect('backlog-subscriber', cluster.nodes[2]);
    await createEventBus({ transport: subscriber.transport, service: 'backlog' }).subscribe(
      Tick,
      deduplicate<Tick>((tick) => {
        if (tick.run === run) handled.set(Number(tick.seq), (handled.get(Number(tick.seq)) ?? 0) + 1);
      }, createMemoryDedupStore()),
      { group },
    );
    await eventually(
      () => ledger.counters.size === backlog && handled.size === backlog,
      'the backlog to be served by the survivors',
      60_000,
    );
    await pause(500);
    expect([...ledger.counters.values()].every((runs) => runs === 1)).toBe(true);
    expect([...handled.values()].every((runs) => runs === 1)).toBe(true);
    const restartMs = await bringBack(target);
    console.info(
      'cluster: backlog on a killed node:',
      JSON.stringify({
        requests: backlog,
        requestsRun: ledger.counters.size,
        events: published.length,
        eventsHandled: handled.size,
        killedNodeBackAndClusterWholeMs: restartMs,
      }),
    );
  }, 300_000);

  it('SIGKILL of the node a server, a client, a gateway and an event subscriber are connected to: each reconnects to a survivor, no idempotent call fails, no event is lost', async () => {
    const target = cluster.nodes[1]!;
    const group = 'cluster-failover';
    // everything on the target node, the service queue's leader too (declared client-local by the server)
    const serverSide = await connect('failover-server', target);
    const ledger = await serve(serverSide, 'TestService', 'failover');
    const client = await connect('failover-client', target);
    const gatewaySide = await connect('failover-gateway', target);
    const gateway = createGateway({
      transport: gatewaySide.transport,
      protos: await loadProtos({ root: 'proto' }),
      logger: createRecordingLogger(),
      expose: ['*'],
      mesh: false,
    });
    const { port } = await gateway.listen(0, '127.0.0.1');
    const subscriberSide = await connect('failover-subscriber', target);
    const publisherSide = await connect('failover-publisher', cluster.nodes[0]);
    expect([serverSide, client, gatewaySide, subscriberSide].map((side) => side.node()?.nodeName)).toEqual(
      Array(4).fill(target.nodeName),
    );
    expect((await cluster.leaderOf('rpc.warren.test.v1.TestService'))?.nodeName).toBe(target.nodeName);

    const run = `failover-${Date.now()}`;
    const handled = new Map<number, number>();
    const subscriber = createEventBus({ transport: subscriberSide.transport, service: 'failover' });
    await subscriber.subscribe(
      Tick,
      deduplicate<Tick>((tick) => {
        if (tick.run === run) handled.set(Number(tick.seq), (handled.get(Number(tick.seq)) ?? 0) + 1);
      }, createMemoryDedupStore()),
      { group },
    );
    const publisher = createEventBus({ transport: publisherSide.transport, service: 'failover' });
    const confirmed: number[] = [];
    let publishFailures = 0;
    let phase = 'before';
    let sending = true;
    const publishing = (async () => {
      for (let seq = 0; sending; seq++) {
        // an event whose publish failed is published again with the same id (subscribers de-duplicate by it)
        for (let attempt = 0; ; attempt++) {
          try {
            await publisher.publish(Tick, { run, seq }, { messageId: `${run}-${seq}`, timeoutMs: CALL_TIMEOUT_MS });
            confirmed.push(seq);
            break;
          } catch {
            publishFailures++;
            if (attempt > 20) break;
            await pause(200);
          }
        }
        await pause(10);
      }
    })();
    const load = startLoad(client.transport, serviceNamed('TestService'), {
      inFlight: 20,
      timeoutMs: CALL_TIMEOUT_MS,
      phase: () => phase,
    });
    const gatewayCalls = new CallLedger();
    let killedAt = 0;
    const gatewayStatuses = new Map<number, number>();
    const viaGateway = (async () => {
      while (sending) {
        const phaseNow = phase;
        await gatewayCalls.track(`gateway-sleep/${phaseNow}`, CALL_TIMEOUT_MS, async () => {
          const answer = await call(`http://127.0.0.1:${port}`, 'POST', '/rpc/warren.test.v1.TestService/Sleep', {
            body: '{"millis":5}',
            headers: { 'x-warren-timeout-ms': String(CALL_TIMEOUT_MS) },
          });
          gatewayStatuses.set(answer.status, (gatewayStatuses.get(answer.status) ?? 0) + 1);
          if (answer.status !== 200) throw new RpcError(Code.UNKNOWN, `HTTP ${answer.status}: ${answer.text}`);
        });
      }
    })();
    await pause(3000);

    killedAt = Date.now();
    phase = 'node-lost';
    await target.stop('kill');
    const sides = { server: serverSide, client, gateway: gatewaySide, subscriber: subscriberSide };
    const reconnectedMs: Record<string, number> = {};
    await eventually(
      () => {
        for (const [role, side] of Object.entries(sides)) {
          if (reconnectedMs[role] === undefined && side.transport.connected && side.transport.stats().reconnections > 0)
            reconnectedMs[role] = Date.now() - killedAt;
        }
        return Object.keys(reconnectedMs).length === Object.keys(sides).length;
      },
      'every process to reconnect',
      90_000,
    );
    phase = 'after';
    await pause(3000);
    sending = false;
    const outcomes = await load.stop();
    await Promise.all([publishing, viaGateway]);
    await eventually(() => confirmed.every((seq) => handled.has(seq)), 'every confirmed event to be handled', 60_000);

    const where = Object.fromEntries(
      Object.entries(sides).map(([role, side]) => [
        role,
        { connected: side.transport.connected, node: side.node()?.nodeName },
      ]),
    );
    expect(
      Object.entries(sides)
        .filter(([, side]) => !survivorOf(side, target))
        .map(([role]) => where[role]),
    ).toEqual([]);
    load.calls.expectComplete(1000);
    gatewayCalls.expectComplete(1000);
    expect(outcomes.filter((o) => o.kind.startsWith('idempotent/') && o.code !== Code.OK)).toEqual([]);
    expect(outcomes.filter((o) => o.kind.startsWith('unsafe/') && !MAY_HAVE_RUN.has(o.code))).toEqual([]);
    expect(outcomes.filter((o) => o.kind === 'unsafe/after' && o.code !== Code.OK)).toEqual([]);
    expect(gatewayCalls.outcomes.filter((o) => o.code !== Code.OK)).toEqual([]);
    expect(twiceRun([ledger])).toEqual([]);
    expect([...handled.values()].filter((times) => times !== 1)).toEqual([]);
    // the served queue answers again: calls sent after every reconnection went through
    expect(outcomes.filter((o) => o.kind === 'idempotent/after').length).toBeGreaterThan(0);
    await gateway.close();
    const restartMs = await bringBack(target);
    console.info(
      'cluster: node of server, client, gateway and subscriber killed:',
      JSON.stringify({
        reconnectedAfterKillMs: reconnectedMs,
        longestGapWithoutSuccessMs: longestGap(
          load.successes,
          killedAt,
          killedAt + Math.max(...Object.values(reconnectedMs)) + 3000,
        ),
        outcomes: outcomesByCode(outcomes),
        gateway: { calls: gatewayCalls.outcomes.length, byHttpStatus: Object.fromEntries(gatewayStatuses) },
        events: { confirmed: confirmed.length, handledOnce: handled.size, publishAttemptsFailed: publishFailures },
        killedNodeBackAndClusterWholeMs: restartMs,
      }),
    );
  }, 300_000);
});

/** True when `side` is connected now, to a node other than `lost`. */
function survivorOf(side: ClusterTransport, lost: ThrowawayBroker): boolean {
  const node = side.node();
  return side.transport.connected && node !== undefined && node !== lost;
}
