/**
 * Memory of a Warren client with 10,000 calls in flight.
 *
 *   npx tsx bench/memory-bench.ts [--calls 10000] [--hold 8000] [--cycles 3]
 *
 * The client is this process (README defaults: `connectAmqp`, generated
 * client); the server is a child process (bench/memory/slow-server.ts,
 * prefetch 10,000) whose Sleep holds every call `--hold` ms. Each cycle
 * fires `--calls` Sleep calls at once, measures heap and RSS after a full GC
 * once all are published and waiting, then again after every reply has come
 * back. "before" is after connecting and 500 warm-up calls. Flat memory means
 * "after" returns to "before" cycle after cycle; the per-call column is
 * (during - before) / calls.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connectAmqp, createClient, DEFAULT_AMQP_URL } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createVhost } from '../test/support/broker.js';
import { align } from './harness/report.js';
import { spawnScript } from './rpc/children.js';
import { rawSleepClient } from './memory/raw-sleep-client.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000' },
    hold: { type: 'string', default: '8000' },
    cycles: { type: 'string', default: '3' },
  },
});
const calls = Number(values.calls);
const holdMs = Number(values.hold);
const cycles = Number(values.cycles);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Snapshot {
  readonly cycle: string;
  readonly phase: string;
  readonly heapBytes: number;
  readonly rssBytes: number;
  readonly pending: number;
}

const vhost = await createVhost('warren-bench-memory', process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL);
const server = await spawnScript(
  fileURLToPath(new URL('./memory/slow-server.ts', import.meta.url)),
  [],
  'memory-server',
  { url: vhost.url, cpuProfDir: undefined },
);
const transport = await connectAmqp({ url: vhost.url, connectionName: `bench-memory-client-${process.pid}` });
try {
  const client = createClient(TestServiceDefinition, transport, { timeoutMs: holdMs * 4 + 30_000 });
  const raw = await rawSleepClient(vhost.url);
  const snapshots: Snapshot[] = [];
  let pendingOf: () => number = () => transport.stats().pending;
  const snap = async (cycle: string, phase: string): Promise<Snapshot> => {
    for (let i = 0; i < 3; i++) {
      gc();
      await sleep(20);
    }
    const snapshot = {
      cycle,
      phase,
      heapBytes: process.memoryUsage().heapUsed,
      rssBytes: process.memoryUsage.rss(),
      pending: pendingOf(),
    };
    snapshots.push(snapshot);
    process.stderr.write(
      `${cycle} ${phase}: heap ${(snapshot.heapBytes / 2 ** 20).toFixed(1)} MB, RSS ${(snapshot.rssBytes / 2 ** 20).toFixed(1)} MB, ${snapshot.pending} pending\n`,
    );
    return snapshot;
  };

  let failures = 0;
  const timeoutMs = holdMs * 4 + 30_000;
  /** Warm-up, "before", then the cycles, for one client; returns heap bytes per in-flight call of each cycle. */
  const measure = async (
    label: string,
    sleepCall: (millis: number) => Promise<void>,
    pending: () => number,
  ): Promise<number[]> => {
    pendingOf = pending;
    await Promise.all(Array.from({ length: 500 }, () => sleepCall(1)));
    const before = await snap(label, 'before');
    const perCall: number[] = [];
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const fired = performance.now();
      const inFlight = Array.from({ length: calls }, () =>
        sleepCall(holdMs).then(
          () => undefined,
          () => void failures++,
        ),
      );
      // every call published and waiting: measure well before the first reply is due
      await sleep(Math.min(1_000, holdMs / 4));
      const during = await snap(`${label} ${cycle}`, 'during');
      if (performance.now() - fired > holdMs)
        process.stderr.write(
          `warning: measuring took longer than --hold (${holdMs} ms): some replies may have come back already\n`,
        );
      perCall.push((during.heapBytes - before.heapBytes) / calls);
      await Promise.all(inFlight);
      await snap(`${label} ${cycle}`, 'after');
    }
    return perCall;
  };
  const warren = await measure(
    'warren',
    async (millis) => void (await client.sleep({ millis })),
    () => transport.stats().pending,
  );
  const rawPerCall = await measure(
    'raw',
    (millis) => raw.sleep(millis, timeoutMs),
    () => raw.pending(),
  );
  await raw.close();
  const perCall = { warren, raw: rawPerCall };
  const before = snapshots[0]!;
  const warrenAfter = snapshots.filter((s) => s.cycle.startsWith('warren')).at(-1)!;

  const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  let base = before;
  const rows = snapshots.map((s) => {
    if (s.phase === 'before') base = s;
    return [
      s.cycle,
      s.phase,
      mb(s.heapBytes),
      mb(s.rssBytes),
      s.pending.toLocaleString('en-US'),
      s.phase === 'during' ? String(Math.round((s.heapBytes - base.heapBytes) / calls)) : '',
    ];
  });
  const out = [
    `Client memory with ${calls.toLocaleString('en-US')} calls in flight (server holds each ${holdMs} ms; heap after full GC; README-default client)`,
    '',
    ...align(['cycle', 'phase', 'heap MB', 'RSS MB', 'pending calls', 'heap bytes/call'], rows),
    '',
    `failed calls: ${failures}; after its last cycle the Warren client's heap is ${mb(warrenAfter.heapBytes - before.heapBytes)} MB over its "before"; raw = amqplib speaking Warren's wire with a Map of resolvers (the floor)`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'memory', calls, holdMs, cycles, snapshots, heapBytesPerCall: perCall, failures })}\n`,
  );
} finally {
  await transport.close();
  await server.stop();
  await vhost.remove();
}
