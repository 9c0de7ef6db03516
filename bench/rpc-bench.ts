/**
 * Warren RPC vs a textbook amqplib RPC, in one run, interleaved.
 *
 *   npm run bench -- [--rounds 5] [--seconds 3] [--warmup 0.5] [--prewarm 4]
 *                    [--concurrency 1,16,128] [--only raw|warren] [--cpu-prof DIR]
 *
 * Four child processes (tsx): a raw server, a Warren server, a raw client and
 * a Warren client, each with one AMQP connection (TCP_NODELAY) and one channel
 * for the work, in a throw-away vhost. Both sides send the same protobuf
 * EchoRequest and answer the same EchoResponse, over direct reply-to, with
 * server prefetch 256. Both first run unmeasured (`--prewarm` seconds, half at
 * concurrency 16, half at 1) so V8 has optimised them. Each round runs every
 * concurrency level for both implementations back to back, alternating which
 * goes first; the table shows medians across rounds, warren/raw ratios
 * (median of per-round ratios), CPU per call of every process (the broker's
 * too, read from /proc) and RSS. The last line is the same data as JSON.
 *
 * `--cpu-prof DIR` writes V8 profiles of the children (DIR/<impl>-<role>/);
 * `npx tsx bench/rpc/profile-summary.ts <file>` prints where the time went.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_AMQP_URL } from '../core/index.js';
import { spawnChild, type BenchChild } from './rpc/children.js';
import { parseBenchOptions } from './rpc/options.js';
import type { Implementation, RunSample } from './rpc/protocol.js';
import { formatTable, summarise, type ProcessMemory } from './rpc/report.js';
import { median } from './rpc/stats.js';
import { brokerCpuReader } from './rpc/broker-cpu.js';
import { createBenchVhost } from './rpc/vhost.js';

const options = parseBenchOptions(process.argv.slice(2));
const cpuProfDir = options.cpuProfDir === undefined ? undefined : resolve(options.cpuProfDir);
if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });

const vhost = await createBenchVhost(process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL);
const children: BenchChild[] = [];
let stopping: Promise<void> | undefined;
const stopAll = (): Promise<void> =>
  (stopping ??= (async () => {
    await Promise.all(children.map((child) => child.stop().catch(() => undefined)));
    await vhost.remove();
  })());
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const pairs = new Map<Implementation, { server: BenchChild; client: BenchChild }>();
  for (const implementation of options.implementations) {
    // Servers first: they declare the queues the clients publish to.
    const server = await spawnChild('server', implementation, { url: vhost.url, cpuProfDir });
    children.push(server);
    const client = await spawnChild('client', implementation, { url: vhost.url, cpuProfDir });
    children.push(client);
    pairs.set(implementation, { server, client });
  }

  const results = new Map<number, Record<Implementation, RunSample[]>>(
    options.concurrency.map((c) => [c, { raw: [], warren: [] }]),
  );
  const clientRss = new Map<Implementation, number[]>(options.implementations.map((i) => [i, []]));
  const brokerCpu = await brokerCpuReader();
  const started = Date.now();
  if (options.prewarmSeconds > 0) {
    for (const implementation of options.implementations) {
      for (const concurrency of [16, 1])
        await pairs.get(implementation)!.client.run(concurrency, options.prewarmSeconds / 2, 0);
    }
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const [level, concurrency] of options.concurrency.entries()) {
      const order = (round + level) % 2 === 0 ? options.implementations : [...options.implementations].reverse();
      for (const implementation of order) {
        const { server, client } = pairs.get(implementation)!;
        const serverBefore = await server.usage();
        const brokerBefore = brokerCpu?.() ?? Number.NaN;
        const run = await client.run(concurrency, options.seconds, options.warmupSeconds);
        const brokerCpuMicros = (brokerCpu?.() ?? Number.NaN) - brokerBefore;
        const result: RunSample = {
          ...run,
          serverCpuMicros: (await server.usage()).cpuMicros - serverBefore.cpuMicros,
          brokerCpuMicros,
        };
        results.get(concurrency)![implementation].push(result);
        clientRss.get(implementation)!.push(result.rssBytes);
        process.stderr.write(
          `round ${round + 1}/${options.rounds} c=${concurrency} ${implementation.padEnd(6)} ${Math.round(result.callsPerSecond)} calls/s p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms${result.errors ? ` errors ${result.errors}` : ''}\n`,
        );
      }
    }
  }
  const elapsedSeconds = (Date.now() - started) / 1000;

  const memory: ProcessMemory[] = [];
  for (const child of children) {
    const { rssBytes, maxRssBytes } = await child.usage();
    const [implementation, role] = child.label.split('-') as [Implementation, string];
    memory.push({
      label: child.label,
      rssBytes: role === 'client' ? median(clientRss.get(implementation)!) : rssBytes,
      maxRssBytes,
    });
  }
  const levels = options.concurrency.map((concurrency) => summarise(concurrency, results.get(concurrency)!));
  const heading = `Warren RPC vs raw amqplib: ${options.rounds} rounds x ${options.seconds} s (+${options.warmupSeconds} s warm-up) per cell after ${options.prewarmSeconds} s pre-warm, medians across rounds; ratios = median of per-round warren/raw (${elapsedSeconds.toFixed(0)} s)`;
  process.stdout.write(`${formatTable(levels, memory, heading)}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'rpc', rounds: options.rounds, seconds: options.seconds, warmupSeconds: options.warmupSeconds, prewarmSeconds: options.prewarmSeconds, levels, memory })}\n`,
  );
  if (cpuProfDir !== undefined)
    process.stderr.write(`CPU profiles are written to ${cpuProfDir} as the children exit\n`);
} finally {
  await stopAll();
}
