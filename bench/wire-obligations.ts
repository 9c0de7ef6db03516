/**
 * The price list of Warren's wire obligations: a raw amqplib client and
 * server with each obligation turned on alone (bench/wire/obligations.ts),
 * against the bare textbook RPC, interleaved in one run.
 *
 *   npx tsx bench/wire-obligations.ts [--quick] [--rounds 3] [--seconds 2] [--warmup 0.5] [--prewarm 2]
 *                                     [--concurrency 1,16] [--only confirm,exchange] [--cpu-prof DIR]
 *
 * Every variant is its own client process and server process (one AMQP
 * connection each, TCP_NODELAY, server prefetch 256, the same 64-byte echo
 * as bench:peers), its own queue in one throw-away vhost. The first table has
 * every run's medians; the second is the price list: throughput as a ratio
 * to `bare`, and CPU µs per call each obligation adds (variant minus bare) in
 * the client, the server and the broker, medians over pairs. By default a
 * variant pairs with the bare run of the same round (every process idles
 * equally long between its runs); `--adjacent` runs each variant back to back
 * with a bare run of its own instead (closer in time, but the bare processes
 * then run twice as often and stay warmer: on a loaded machine that favours
 * bare). The last line is the same data as JSON.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_AMQP_URL } from '../core/index.js';
import { createVhost, type TestVhost } from '../test/support/broker.js';
import { runInterleaved, type Contender } from './harness/interleave.js';
import { describeSchedule, parseHarnessOptions } from './harness/options.js';
import { brokerPort, listenerPid } from './harness/proc-cpu.js';
import { align, formatLevels, summarise, type Level } from './harness/report.js';
import { spawnScript, type BenchChild } from './rpc/children.js';
import { BASELINE_VARIANT, VARIANTS } from './wire/obligations.js';

const USAGE =
  'usage: npx tsx bench/wire-obligations.ts [--quick] [--adjacent] [--rounds 3] [--seconds 2] [--warmup 0.5] [--prewarm 2] [--concurrency 1,16] [--only a,b] [--cpu-prof DIR]';
/** Processes started at once: all of them together would only slow each start on two cores. */
const START_BATCH = 6;

const options = parseHarnessOptions(process.argv.slice(2), USAGE, '1,16', {
  rounds: '3',
  seconds: '2',
  warmup: '0.5',
  prewarm: '2',
});
const unknown = options.only?.filter((name) => VARIANTS[name] === undefined);
if (unknown && unknown.length > 0)
  throw new Error(`unknown variant ${unknown.join(', ')}; known: ${Object.keys(VARIANTS).join(', ')}`);
const variants = Object.keys(VARIANTS).filter(
  (name) => name === BASELINE_VARIANT || options.only === undefined || options.only.includes(name),
);
const cpuProfDir = options.cpuProfDir === undefined ? undefined : resolve(options.cpuProfDir);
if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });
const baseUrl = process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL;
const script = fileURLToPath(new URL('./wire/wire-process.ts', import.meta.url));

let vhost: TestVhost | undefined;
const children: BenchChild[] = [];
let stopping: Promise<void> | undefined;
const stopAll = (): Promise<void> =>
  (stopping ??= (async () => {
    await Promise.all(children.map((child) => child.stop().catch(() => undefined)));
    await vhost?.remove();
  })());
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

/** Starts `role` of every variant, `START_BATCH` at a time. */
async function startAll(role: 'server' | 'client', url: string): Promise<BenchChild[]> {
  const started: BenchChild[] = [];
  for (let at = 0; at < variants.length; at += START_BATCH) {
    const batch = await Promise.all(
      variants
        .slice(at, at + START_BATCH)
        .map((variant) => spawnScript(script, [role, variant], `${variant}-${role}`, { url, cpuProfDir })),
    );
    children.push(...batch);
    started.push(...batch);
  }
  return started;
}

/** The price list: each variant's paired throughput ratio and added CPU per call, per level. */
function priceList(levels: readonly Level[]): string {
  const header = [
    'obligation',
    ...levels.flatMap((l) => [`c=${l.concurrency} calls`, `c=${l.concurrency} +client µs`, `+server µs`, `+broker µs`]),
  ];
  const signed = (value: number): string =>
    Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${Math.round(value)}` : '-';
  const rows = variants.map((name) => [
    name,
    ...levels.flatMap((level) => {
      const row = level.rows.find((r) => r.name === name)!;
      return [
        `${row.callsRatio.toFixed(2)}x`,
        signed(row.clientCpuDeltaUs),
        signed(row.serverCpuDeltaUs),
        signed(row.brokerCpuDeltaUs),
      ];
    }),
  ]);
  return align(header, rows, 0).join('\n');
}

try {
  const started = Date.now();
  vhost = await createVhost('warren-bench-wire', baseUrl);
  const servers = await startAll('server', vhost.url);
  const clients = await startAll('client', vhost.url);
  const contenders: Contender[] = variants.map((name, index) => ({
    name,
    server: servers[index]!,
    client: clients[index]!,
  }));
  const brokerPid = listenerPid(brokerPort(baseUrl));
  if (brokerPid === undefined)
    process.stderr.write(`no process found listening on port ${brokerPort(baseUrl)}: the broker column stays empty\n`);
  const results = await runInterleaved(
    contenders,
    options,
    brokerPid,
    (line) => process.stderr.write(`${line}\n`),
    options.adjacent ? BASELINE_VARIANT : undefined,
  );
  const levels = summarise(results, BASELINE_VARIANT);
  const elapsed = (Date.now() - started) / 1000;
  const out = [
    `Wire obligations, each alone on raw amqplib (same 64-byte protobuf echo, client/server/broker as separate processes)${options.quick ? ' (QUICK smoke run: too short to quote)' : ''}`,
    describeSchedule(options, elapsed),
    options.adjacent
      ? 'Adjacent pairing: every variant runs back to back with a bare run of its own (alternating which goes first); ratios and +µs are medians over those pairs'
      : 'Round pairing: every variant against the bare run of the same round; +µs are medians of per-round differences',
    `CPU columns: /proc/<pid>/stat utime+stime over the whole run (warm-up included) / calls completed in it; broker = pid ${brokerPid ?? '?'} on :${brokerPort(baseUrl)} (shared: other load on it counts too)`,
    '',
    formatLevels(levels, BASELINE_VARIANT),
    '',
    'Price list (calls = throughput ratio to the paired bare run; +µs = CPU per call added over it; medians over pairs):',
    priceList(levels),
    '',
    ...variants.map((name) => `  ${name.padEnd(18)} ${VARIANTS[name]!.what}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'wire-obligations', ...options, elapsedSeconds: elapsed, brokerPid, levels })}\n`,
  );
} finally {
  await stopAll();
}
