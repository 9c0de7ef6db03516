import { setMaxListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient, createServer, type Server } from '../../core/index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { CallLedger, type Outcome } from './call-ledger.js';
import {
  expectNoAbortListeners,
  expectNoHandleLeak,
  expectTransportSettled,
  takeLeakProbe,
  type LeakProbe,
} from './leak-check.js';
import { testService, type TestServiceLedger } from '../../core/testing/test-service.js';
import { startThrowawayBroker, type StopMode, type ThrowawayBroker } from './throwaway-broker.js';

const QUEUE_TYPES = ['classic', 'quorum'] as const;
type QueueType = (typeof QUEUE_TYPES)[number];
const definitionOf = (queueType: QueueType) => ({
  ...TestServiceDefinition,
  fullName: `warren.test.v1.Restart${queueType === 'classic' ? 'Classic' : 'Quorum'}Service`,
});
const backlogOf = (queueType: QueueType) => ({
  ...TestServiceDefinition,
  fullName: `warren.test.v1.Backlog${queueType === 'classic' ? 'Classic' : 'Quorum'}Service`,
});
/** Requests left waiting in a queue nobody consumes when the node goes away. */
const BACKLOG = 5;
const INSTANCES = ['a', 'b'] as const;
/** Generous: calls made while the node is down wait for it, and a boot takes 5 s on an idle machine but 30 s on a loaded one. */
const TIMEOUT_MS = 120_000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** When a call was sent, relative to the restart. */
type Phase = 'before' | 'stopping' | 'down' | 'after';

/** Options of {@link describeBrokerRestart}. */
export interface BrokerRestartOptions {
  /** How the node goes away. */
  readonly mode: StopMode;
  /**
   * Steady load before the stop. Default 1 s. A node killed within seconds of declaring a quorum queue can
   * bring it back leaderless and empty (RabbitMQ syncs its Raft directory lazily), so crash tests wait longer.
   */
  readonly steadyMs?: number;
}

/**
 * The broker node itself goes away and comes back (a throwaway node of our own: the shared broker is never
 * touched) while a client keeps calling two services, one on a classic and one on a quorum queue, each served
 * by two instances. Checks every call with the CallLedger and prints the measured times.
 */
export function describeBrokerRestart({ mode, steadyMs = 1000 }: BrokerRestartOptions): void {
  describe(`broker node restart (${mode}) under steady load`, () => {
    let broker: ThrowawayBroker;
    let probe: LeakProbe;
    const transports: AmqpTransport[] = [];
    const servers: Server[] = [];
    const ledgers = new Map<QueueType, TestServiceLedger[]>(QUEUE_TYPES.map((type) => [type, []]));
    let client: AmqpTransport;

    beforeAll(async () => {
      probe = takeLeakProbe();
      broker = await startThrowawayBroker({ label: mode });
      for (const instance of INSTANCES) {
        const transport = await connectAmqp({ url: broker.url, connectionName: `restart-server-${instance}` });
        transports.push(transport);
        for (const queueType of QUEUE_TYPES) {
          const { implementation, ledger } = testService(`${instance}-${queueType}`);
          ledgers.get(queueType)!.push(ledger);
          const server = createServer({ transport, instance, queueType, prefetch: 32 }).add(
            definitionOf(queueType),
            implementation,
          );
          await server.start();
          servers.push(server);
        }
      }
      client = await connectAmqp({ url: broker.url, connectionName: 'restart-client' });
      transports.push(client);
    }, 120_000);

    afterAll(async () => {
      for (const server of servers) await server.close();
      for (const transport of transports) await transport.close();
      await broker?.remove();
      expect(broker?.processes() ?? []).toEqual([]);
      await expectNoHandleLeak(probe);
    }, 60_000);

    it(`keeps every call accounted for when the node ${mode === 'kill' ? 'is killed (SIGKILL)' : mode === 'app' ? 'stops its broker app' : 'stops gracefully'} and starts again`, async () => {
      const clients = new Map(QUEUE_TYPES.map((type) => [type, createClient(definitionOf(type), client)]));
      for (const [, c] of clients) await c.echo({ text: 'warm-up' }, { timeoutMs: 10_000 });
      const caller = new AbortController(); // every call listens on it: none may leave its listener behind
      setMaxListeners(100_000, caller.signal);
      const calls = new CallLedger();
      const sent: Promise<Outcome>[] = [];
      const unsafeCounters = new Map<number, { queueType: QueueType; counter: string }>();
      const state: { phase: Phase } = { phase: 'before' };
      // a backlog: requests waiting in a durable queue with no consumer when the node goes away
      for (const queueType of QUEUE_TYPES) {
        const parked = createServer({ transport: transports[0]!, instance: 'declare', queueType }).add(
          backlogOf(queueType),
          testService('declare').implementation,
        );
        await parked.start();
        await parked.close(); // the queue stays, with nobody consuming it
        const backlogClient = createClient(backlogOf(queueType), client, { retry: false });
        for (let i = 0; i < BACKLOG; i++) {
          sent.push(
            calls.track(`${queueType}/backlog/before`, TIMEOUT_MS, () =>
              backlogClient.increment({ counter: `backlog-${i}` }, { timeoutMs: TIMEOUT_MS, signal: caller.signal }),
            ),
          );
        }
      }
      let sending = true;
      let n = BACKLOG * QUEUE_TYPES.length; // the ledger id of the next call
      const load = (async () => {
        while (sending) {
          for (const queueType of QUEUE_TYPES) {
            const c = clients.get(queueType)!;
            const at: Phase = state.phase === 'stopping' && !client.connected ? 'down' : state.phase;
            n++;
            sent.push(
              calls.track(`${queueType}/idempotent/${at}`, TIMEOUT_MS, () =>
                c.sleep({ millis: 20 + (n % 40) }, { timeoutMs: TIMEOUT_MS, signal: caller.signal }),
              ),
            );
            const counter = `${mode}-${n}`;
            unsafeCounters.set(n, { queueType, counter });
            n++;
            sent.push(
              calls.track(`${queueType}/unsafe/${at}`, TIMEOUT_MS, () =>
                c.increment({ counter, delayMs: 30 }, { timeoutMs: TIMEOUT_MS, signal: caller.signal }),
              ),
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      })();

      // what each transport sees, sampled every 5 ms
      const seen = { clientDown: 0, clientUp: 0, serversUp: 0 };
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const now = Date.now();
          if (!client.connected && seen.clientDown === 0) seen.clientDown = now;
          if (seen.clientDown > 0 && client.connected && seen.clientUp === 0) seen.clientUp = now;
          if (
            seen.clientDown > 0 &&
            seen.serversUp === 0 &&
            transports.slice(0, INSTANCES.length).every((t) => t.connected && t.stats().reconnections > 0)
          )
            seen.serversUp = now;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();

      await new Promise((resolve) => setTimeout(resolve, steadyMs));
      const reconnectionsBefore = client.stats().reconnections;
      state.phase = 'stopping';
      const stopAt = Date.now();
      await broker.stop(mode);
      const stoppedAt = Date.now();
      state.phase = 'down';
      await broker.start();
      const brokerBackAt = Date.now();
      while (client.stats().reconnections === reconnectionsBefore || seen.serversUp === 0)
        await new Promise((resolve) => setTimeout(resolve, 20));
      state.phase = 'after';
      await new Promise((resolve) => setTimeout(resolve, 1000));
      sending = false;
      await load;
      const outcomes = await Promise.all(sent);
      sampling = false;
      await sampler;

      // every call got exactly one typed outcome, none later than its deadline (+1 s)
      calls.expectComplete(1000);
      const of = (queueType: QueueType, safety: string, at?: Phase) =>
        outcomes.filter(
          (o) => o.kind.startsWith(`${queueType}/${safety}/`) && (at === undefined || o.kind.endsWith(`/${at}`)),
        );
      for (const queueType of QUEUE_TYPES) {
        // idempotent calls all succeed: those in flight are retried on the new connection, those made while it was down wait for it
        expect(of(queueType, 'idempotent').filter((o) => o.code !== Code.OK)).toEqual([]);
        // calls not yet sent when the connection dropped are published once it is back: none fails
        for (const at of ['down', 'after'] as const)
          expect(of(queueType, 'unsafe', at).filter((o) => o.code !== Code.OK)).toEqual([]);
        // an unsafe call in flight either succeeded or failed UNAVAILABLE (may have run); never anything else
        expect(of(queueType, 'unsafe').filter((o) => o.code !== Code.OK && o.code !== Code.UNAVAILABLE)).toEqual([]);
        const serverLedgers = ledgers.get(queueType)!;
        // no handler started after its deadline
        expect(serverLedgers.flatMap((l) => l.started).filter((s) => s.remainingMs <= 0)).toEqual([]);
        // no unsafe request ran twice (each call has a counter of its own, counted across both instances)
        const runs = new Map<string, number>();
        for (const ledger of serverLedgers)
          for (const [counter, value] of ledger.counters) runs.set(counter, (runs.get(counter) ?? 0) + value);
        expect([...runs].filter(([, count]) => count > 1)).toEqual([]);
      }

      // the backlog callers learnt of the connection loss (UNAVAILABLE: may have run); what became of their requests
      // depends on the queue type: a classic queue drops transient messages at a restart, a quorum queue keeps them
      expect(outcomes.filter((o) => o.kind.includes('/backlog/') && o.code !== Code.UNAVAILABLE)).toEqual([]);
      const backlogLedgers = new Map<QueueType, TestServiceLedger>();
      const backlogServers: Server[] = [];
      for (const queueType of QUEUE_TYPES) {
        const { implementation, ledger } = testService(`backlog-${queueType}`);
        backlogLedgers.set(queueType, ledger);
        const server = createServer({ transport: transports[0]!, instance: 'backlog', queueType }).add(
          backlogOf(queueType),
          implementation,
        );
        await server.start();
        backlogServers.push(server);
      }
      const drainBy = Date.now() + 10_000;
      while (backlogLedgers.get('quorum')!.started.length < BACKLOG && Date.now() < drainBy) await pause(50);
      await pause(500); // the classic backlog server had the same chance
      for (const server of backlogServers) await server.close();
      // and they were acknowledged: nothing of the backlog is left in either queue
      const backlogLeft = async (): Promise<string[]> =>
        (await broker.rabbitmqctl('list_queues', '--quiet', '--no-table-headers', 'name', 'messages'))
          .split('\n')
          .filter((line) => /^rpc\.warren\.test\.v1\.Backlog\w+Service\s+[1-9]/.test(line));
      const ackedBy = Date.now() + 15_000;
      while ((await backlogLeft()).length > 0 && Date.now() < ackedBy) await pause(500);
      expect(await backlogLeft()).toEqual([]);
      const backlogRan = {
        classic: backlogLedgers.get('classic')!.started.length,
        quorum: backlogLedgers.get('quorum')!.started.length,
      };
      expect(backlogRan).toEqual({ classic: 0, quorum: BACKLOG });
      expect([...backlogLedgers.values()].flatMap((l) => l.started).filter((s) => s.remainingMs <= 0)).toEqual([]);

      // both services still answer (every instance consuming again), after all of the above
      for (const [queueType, c] of clients) {
        const replies = await Promise.all(
          Array.from({ length: 20 }, () => c.sleep({ millis: 20 }, { timeoutMs: 10_000 })),
        );
        expect(new Set(replies.map((r) => r.instance))).toEqual(new Set(INSTANCES.map((i) => `${i}-${queueType}`)));
      }

      // nothing left behind on the live transports: no pending call, nobody waiting, one channel per consumer or requester
      await expectTransportSettled(client, { channels: 1 });
      for (const transport of transports.slice(0, INSTANCES.length))
        await expectTransportSettled(transport, { channels: QUEUE_TYPES.length });
      expectNoAbortListeners(caller.signal);

      const unsafeRan = (queueType: QueueType, code: Code): number =>
        of(queueType, 'unsafe')
          .filter((o) => o.code === code)
          .filter((o) => ledgers.get(queueType)!.some((l) => l.counters.has(unsafeCounters.get(o.id)!.counter))).length;
      const duringOutage = outcomes.filter((o) => o.kind.endsWith('/down'));
      const report = {
        mode,
        calls: outcomes.length,
        detectMs: seen.clientDown - stopAt,
        stopMs: stoppedAt - stopAt,
        brokerDownMs: brokerBackAt - stoppedAt,
        recoverClientMs: seen.clientUp - brokerBackAt,
        recoverServersMs: seen.serversUp - brokerBackAt,
        maxLatencyOfCallsSentWhileDownMs: Math.max(
          0,
          ...duringOutage.map((o) => o.settledAt - (o.deadline - TIMEOUT_MS)),
        ),
        outcomes: calls.summary(),
        unsafeUnavailableThatRan: {
          classic: unsafeRan('classic', Code.UNAVAILABLE),
          quorum: unsafeRan('quorum', Code.UNAVAILABLE),
        },
        backlogRunAfterRestart: backlogRan,
      };
      console.info(`broker restart (${mode}):`, JSON.stringify(report));
      console.info(
        `queues after the ${mode} restart:\n${await broker.rabbitmqctl('list_queues', '--quiet', 'name', 'type', 'durable', 'messages', 'consumers')}`,
      );
    }, 300_000);
  });
}
