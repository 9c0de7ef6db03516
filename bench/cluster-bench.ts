/**
 * Calls/s on one RabbitMQ node vs a 3-node cluster, side by side in one run.
 *
 *   WARREN_LOG_LEVEL=silent npx tsx bench/cluster-bench.ts [--rounds 3] [--seconds 4] [--warmup 2] [--concurrency 1,32,256]
 *
 * Boots its own throwaway nodes (test/support/throwaway-*.ts; the shared broker is never touched): one single node
 * and a 3-node cluster. Three setups, each a server (prefetch 256) and a client on connections of their own, calling
 * TestService.Echo with a small message:
 *
 * - `1 node`: the single-node default: classic service queue, direct reply-to.
 * - `1 node, cluster mode`: the same node with `queueType: 'quorum'` (quorum queue, reply queue): what the mode
 *   itself costs, without replication.
 * - `3 nodes`: cluster mode on the cluster, the client on node 1, the server (and so the queue's leader, placed
 *   client-local) on node 2, replicas on all three: what a caller on one node of a real cluster sees.
 *
 * Warm-up: every setup first runs `--warmup` seconds at concurrency 32, unmeasured. Then each round runs every
 * setup at every concurrency back to back, rotating which setup goes first. The table shows medians across rounds,
 * the ratio to `1 node` (median of per-round ratios), and CPU per call: this process (client and server share it)
 * and the broker nodes together (from /proc). At the highest concurrency the `3 nodes` row is what one quorum
 * queue carries on this machine. The last line is the same data as JSON.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type AmqpTransport, connectAmqp, createClient, createServer, type Server } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { testService } from '../core/testing/test-service.js';
import { startThrowawayBroker, type ThrowawayBroker } from '../test/support/throwaway-broker.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../test/support/throwaway-cluster.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '1,32,256' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const levels = values.concurrency.split(',').map(Number);

interface Setup {
  readonly name: string;
  /** TestService under a name of this setup's own (two setups share the single node). */
  readonly definition: typeof TestServiceDefinition;
  readonly client: AmqpTransport;
  readonly brokers: readonly ThrowawayBroker[];
  readonly closeables: { close(): Promise<void> }[];
}
interface Sample {
  callsPerSecond: number;
  processCpuUsPerCall: number;
  brokerCpuUsPerCall: number;
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const TICK_US = 1e6 / 100; // USER_HZ: /proc reports CPU in clock ticks of 10 ms
const brokerCpuUs = (brokers: readonly ThrowawayBroker[]): number =>
  brokers.reduce((sum, broker) => {
    const stat = readFileSync(`/proc/${broker.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return sum + (Number(fields[11]) + Number(fields[12])) * TICK_US;
  }, 0);

async function makeSetup(
  name: string,
  brokers: readonly ThrowawayBroker[],
  clientAt: ThrowawayBroker,
  serverAt: ThrowawayBroker,
  quorum: boolean,
): Promise<Setup> {
  const queueType = quorum ? 'quorum' : 'classic';
  const definition = {
    ...TestServiceDefinition,
    fullName: `warren.test.v1.Bench${quorum ? 'Quorum' : 'Classic'}${brokers.length}`,
  } as unknown as typeof TestServiceDefinition;
  const serverTransport = await connectAmqp({ url: serverAt.url, queueType, connectionName: `bench-server-${name}` });
  const server: Server = createServer({ transport: serverTransport, instance: name, prefetch: 256 }).add(
    definition,
    testService(name).implementation,
  );
  await server.start();
  const client = await connectAmqp({ url: clientAt.url, queueType, connectionName: `bench-client-${name}` });
  return { name, definition, client, brokers, closeables: [server, client, serverTransport] };
}

async function measure(setup: Setup, concurrency: number, durationS: number): Promise<Sample> {
  const caller = createClient(setup.definition, setup.client);
  const until = Date.now() + durationS * 1000;
  let calls = 0;
  const cpu0 = process.cpuUsage();
  const broker0 = brokerCpuUs(setup.brokers);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        await caller.echo({ text: 'bench' }, { timeoutMs: 30_000 });
        calls++;
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    callsPerSecond: calls / elapsedS,
    processCpuUsPerCall: (cpu.user + cpu.system) / calls,
    brokerCpuUsPerCall: (brokerCpuUs(setup.brokers) - broker0) / calls,
  };
}

let single: ThrowawayBroker | undefined;
let cluster: ThrowawayCluster | undefined;
const setups: Setup[] = [];
try {
  process.stderr.write('booting a single node and a 3-node cluster (throwaway)...\n');
  [single, cluster] = await Promise.all([
    startThrowawayBroker({ label: 'bench-single' }),
    startThrowawayCluster({ label: 'bench' }),
  ]);
  const [n1, n2] = cluster.nodes as [ThrowawayBroker, ThrowawayBroker, ThrowawayBroker];
  setups.push(await makeSetup('1 node', [single], single, single, false));
  setups.push(await makeSetup('1 node, cluster mode', [single], single, single, true));
  setups.push(await makeSetup('3 nodes', cluster.nodes, n1, n2, true));
  for (const setup of setups) await measure(setup, 32, warmup);

  const samples = new Map<string, Sample[]>(); // key: setup|concurrency
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of levels) {
      for (let i = 0; i < setups.length; i++) {
        const setup = setups[(i + round) % setups.length]!;
        const key = `${setup.name}|${concurrency}`;
        samples.set(key, [...(samples.get(key) ?? []), await measure(setup, concurrency, seconds)]);
      }
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }

  const rows = levels.flatMap((concurrency) =>
    setups.map((setup) => {
      const mine = samples.get(`${setup.name}|${concurrency}`)!;
      const baseline = samples.get(`1 node|${concurrency}`)!;
      return {
        setup: setup.name,
        concurrency,
        callsPerSecond: Math.round(median(mine.map((s) => s.callsPerSecond))),
        ratioTo1Node: Number(median(mine.map((s, i) => s.callsPerSecond / baseline[i]!.callsPerSecond)).toFixed(2)),
        processCpuUsPerCall: Math.round(median(mine.map((s) => s.processCpuUsPerCall))),
        brokerCpuUsPerCall: Math.round(median(mine.map((s) => s.brokerCpuUsPerCall))),
      };
    }),
  );
  console.log(
    `cluster bench: ${rounds} rounds x ${seconds} s per cell, ${warmup} s warm-up per setup, Echo, server prefetch 256`,
  );
  console.log(
    'setup                  | conc | calls/s | vs 1 node | CPU us/call (client+server process) | CPU us/call (broker nodes)',
  );
  for (const row of rows) {
    console.log(
      `${row.setup.padEnd(22)} | ${String(row.concurrency).padStart(4)} | ${String(row.callsPerSecond).padStart(7)} | ${row.ratioTo1Node.toFixed(2).padStart(9)} | ${String(row.processCpuUsPerCall).padStart(35)} | ${String(row.brokerCpuUsPerCall).padStart(26)}`,
    );
  }
  console.log(JSON.stringify(rows));
} finally {
  for (const setup of setups) for (const closeable of setup.closeables) await closeable.close().catch(() => undefined);
  await Promise.all([single?.remove(), cluster?.remove()]);
}
