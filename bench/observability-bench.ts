/**
 * Overhead of tracing and metrics on the RPC hot path, in-process on the
 * memory transport (no broker: what is left is Warren's own per-call work).
 *
 *   npx tsx bench/observability-bench.ts [mode] [--seconds 2] [--rounds 5]
 *
 * Modes (one per process, so globals do not leak between them):
 *   off      metrics: false, tracing: false on client, server and bus
 *   default  the defaults, no OpenTelemetry SDK registered (tracing is a no-op)
 *   sdk      the defaults with an SDK registered (NodeTracerProvider, always-on
 *            sampler, a BatchSpanProcessor into an exporter that drops spans)
 *   all      runs the three modes above as child processes, interleaved
 *            `--repeats` times (default 3), and prints a table of CPU µs per op
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, createEventBus, createMemoryTransport, createServer } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { Tick } from '../gen/warren/test/v1/test_events.js';

const args = process.argv.slice(2);
const mode = args.find((arg) => !arg.startsWith('--')) ?? 'all';
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(args[at + 1]);
};
const seconds = flag('seconds', 2);
const rounds = flag('rounds', 5);

if (mode === 'all') {
  // each mode runs `repeats` times, interleaved; the table shows the median run
  const repeats = flag('repeats', 3);
  const runs = new Map<string, Record<string, number>[]>();
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const child of args[args.indexOf('--modes') + 1] && args.includes('--modes')
      ? args[args.indexOf('--modes') + 1]!.split(',')
      : ['off', 'default', 'sdk']) {
      const run = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          child,
          '--seconds',
          String(seconds),
          '--rounds',
          String(rounds),
        ],
        { encoding: 'utf8', env: { ...process.env, WARREN_LOG_LEVEL: 'silent' } },
      );
      if (run.status !== 0) throw new Error(`${child}: ${run.stderr}`);
      runs.set(child, [...(runs.get(child) ?? []), JSON.parse(run.stdout.trim().split('\n').pop()!)]);
    }
  }
  const mid = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const rows: Record<string, unknown>[] = [...runs].map(([mode, list]) => ({
    mode,
    rpc1: mid(list.map((r) => r['rpc1']!)),
    rpc64: mid(list.map((r) => r['rpc64']!)),
    events64: mid(list.map((r) => r['events64']!)),
  }));
  const base = rows[0]!;
  console.log('mode     | rpc c=1 CPU µs/call | rpc c=64 CPU µs/call | events c=64 CPU µs/event');
  console.log('---------|---------------------|----------------------|------------------------');
  for (const row of rows) {
    const cell = (key: string): string =>
      `${(row[key] as number).toFixed(2)} (${(((row[key] as number) / (base[key] as number) - 1) * 100).toFixed(0).padStart(3)} %)`.padEnd(
        20,
      );
    console.log(`${String(row['mode']).padEnd(8)} | ${cell('rpc1')}| ${cell('rpc64')} | ${cell('events64')}`);
  }
  console.log('(median of rounds; % against "off")');
  process.exit(0);
}

if (mode === 'sdk') {
  const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const dropping = {
    export: (_spans: unknown, done: (result: { code: number }) => void) => done({ code: 0 }),
    shutdown: async () => undefined,
  };
  // what NodeSDK sets up: a batch processor (here into an exporter that drops everything)
  new NodeTracerProvider({
    spanProcessors: [new BatchSpanProcessor(dropping as never, { maxQueueSize: 65_536, maxExportBatchSize: 4_096 })],
  }).register();
}

const off = mode === 'off' ? { metrics: false, tracing: false } : {};
const transport = createMemoryTransport();
const server = createServer({ transport, prefetch: 256, ...off } as never).add(TestServiceDefinition, {
  echo: (request) => ({ text: request.text }),
  sleep: () => ({}),
  fail: () => ({}),
  increment: () => ({}),
  relay: () => ({}),
});
await server.start();
const client = createClient(TestServiceDefinition, transport, { timeoutMs: 5_000, ...off } as never);
const bus = createEventBus({ transport, service: 'bench', ...off } as never);
let handled = 0;
await bus.subscribe(
  Tick,
  () => {
    handled++;
  },
  { group: 'bench', prefetch: 256 },
);

async function rpcLoop(concurrency: number, forMs: number): Promise<number> {
  let calls = 0;
  const until = performance.now() + forMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await client.echo({ text: 'hello' });
        calls++;
      }
    }),
  );
  return calls;
}

async function eventLoop(concurrency: number, forMs: number): Promise<number> {
  const before = handled;
  const until = performance.now() + forMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) await bus.publish(Tick, { run: 'b', seq: 1 });
    }),
  );
  while (handled - before < 1) await new Promise((resolve) => setImmediate(resolve));
  return handled - before;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
await rpcLoop(16, 500);
await eventLoop(16, 300);
const result: Record<string, number[]> = { rpc1: [], rpc64: [], events64: [] };
for (let round = 0; round < rounds; round++) {
  for (const [key, run] of [
    ['rpc1', () => rpcLoop(1, seconds * 1000)],
    ['rpc64', () => rpcLoop(64, seconds * 1000)],
    ['events64', () => eventLoop(64, seconds * 1000)],
  ] as const) {
    const cpu = process.cpuUsage();
    const count = await run();
    const used = process.cpuUsage(cpu);
    // CPU time per operation: steadier than wall time on a shared machine
    result[key]!.push((used.user + used.system) / count);
  }
}
await bus.close();
await server.close();
await transport.close();
console.log(
  JSON.stringify({
    mode,
    rpc1: median(result.rpc1!),
    rpc64: median(result.rpc64!),
    events64: median(result.events64!),
  }),
);
