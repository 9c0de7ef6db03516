/**
 * Warren vs raw amqplib vs NestJS `Transport.RMQ` vs Moleculer's AMQP
 * transporter, in one run, interleaved.
 *
 *   npm run bench:peers -- [--quick] [--rounds 5] [--seconds 3] [--warmup 1] [--prewarm 4]
 *                          [--concurrency 1,16,128] [--only warren,nestjs] [--cpu-prof DIR]
 *
 * Unary echo of the same 64-byte text (bench/peers/message.ts). For each
 * system a server process and a client process (tsx children), each with its
 * own AMQP connection, with queue names of the system's own in one throw-away
 * vhost; the broker is the
 * shared RabbitMQ, found by its listening port. Every cell (round x
 * concurrency) runs every system once, in an order that rotates from cell to
 * cell, after the same warm-up; ratios are medians of per-round ratios
 * against raw amqplib; CPU per call of client, server and broker comes from
 * /proc/<pid>/stat. How each system is set up: bench/peers/*-peer.ts. The
 * last line is the same data as JSON.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_AMQP_URL } from '../core/index.js';
import { createVhost, type TestVhost } from '../test/support/broker.js';
import { runInterleaved, type Contender } from './harness/interleave.js';
import { describeSchedule, parseHarnessOptions } from './harness/options.js';
import { brokerPort, listenerPid } from './harness/proc-cpu.js';
import { formatLevels, summarise } from './harness/report.js';
import { SYSTEMS, type SystemName } from './peers/adapter.js';
import { spawnScript, type BenchChild } from './rpc/children.js';

const USAGE =
  'usage: npm run bench:peers -- [--quick] [--rounds 5] [--seconds 3] [--warmup 1] [--prewarm 4] [--concurrency 1,16,128] [--only warren,nestjs,moleculer] [--cpu-prof DIR]';
const BASELINE: SystemName = 'raw';
const SETUP: Record<SystemName, string> = {
  raw: 'raw amqplib 2.x: protobuf bodies, plain channel, default exchange, direct reply-to, prefetch 256, manual ack, noDelay',
  warren:
    'Warren, README defaults: connectAmqp({ url }), createServer({ transport }) (prefetch 64), generated client (10 s deadline)',
  nestjs:
    'NestJS 12 Transport.RMQ: prefetchCount 256, noAck true (documented default), persistent false, noDelay; JSON packets',
  moleculer: 'Moleculer 0.14 AMQP transporter: prefetch 256, noDelay, logger/metrics/tracing off; JSON serializer',
};

const options = parseHarnessOptions(process.argv.slice(2), USAGE);
const unknown = options.only?.filter((name) => !SYSTEMS.includes(name as SystemName));
if (unknown && unknown.length > 0) throw new Error(`unknown system ${unknown.join(', ')}\n${USAGE}`);
const systems = SYSTEMS.filter(
  (name) => name === BASELINE || options.only === undefined || options.only.includes(name),
);
const cpuProfDir = options.cpuProfDir === undefined ? undefined : resolve(options.cpuProfDir);
if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });
const baseUrl = process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL;
const script = fileURLToPath(new URL('./peers/peer-process.ts', import.meta.url));

const vhosts: TestVhost[] = [];
const children: BenchChild[] = [];
let stopping: Promise<void> | undefined;
const stopAll = (): Promise<void> =>
  (stopping ??= (async () => {
    await Promise.all(children.map((child) => child.stop().catch(() => undefined)));
    await Promise.all(vhosts.map((vhost) => vhost.remove()));
  })());
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const started = Date.now();
  // servers first (they declare the queues), then the clients; each group started together
  // one vhost (rabbitmqctl is slow to start); each system has names of its own in it (queues bench.peers.<system>.*,
  // Warren's rpc.warren.test.v1.TestService, Moleculer's namespace MOL-bench.*), so none sees another's traffic
  const vhost = await createVhost('warren-bench-peers', baseUrl);
  vhosts.push(vhost);
  const start = (role: 'server' | 'client', system: SystemName): Promise<BenchChild> =>
    spawnScript(script, [role, system], `${system}-${role}`, { url: vhost.url, cpuProfDir }).then((child) => {
      children.push(child);
      return child;
    });
  const servers = await Promise.all(systems.map((system) => start('server', system)));
  const clients = await Promise.all(systems.map((system) => start('client', system)));
  const contenders: Contender[] = systems.map((name, index) => ({
    name,
    server: servers[index]!,
    client: clients[index]!,
  }));
  const brokerPid = listenerPid(brokerPort(baseUrl));
  if (brokerPid === undefined)
    process.stderr.write(`no process found listening on port ${brokerPort(baseUrl)}: the broker column stays empty\n`);
  const results = await runInterleaved(contenders, options, brokerPid, (line) => process.stderr.write(`${line}\n`));
  const levels = summarise(results, BASELINE);
  const elapsed = (Date.now() - started) / 1000;
  const out = [
    `RPC peers: unary echo of one 64-byte text, client/server/broker as separate processes, one connection each${options.quick ? ' (QUICK smoke run: too short to quote)' : ''}`,
    describeSchedule(options, elapsed),
    `CPU columns: /proc/<pid>/stat utime+stime over the whole run (warm-up included) / calls completed in it; broker = pid ${brokerPid ?? '?'} listening on :${brokerPort(baseUrl)} (shared: other load on it counts too)`,
    '',
    formatLevels(levels, BASELINE),
    '',
    ...systems.map((system) => `  ${system.padEnd(9)} ${SETUP[system]}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'peers', ...options, elapsedSeconds: elapsed, brokerPid, levels })}\n`,
  );
  if (cpuProfDir !== undefined)
    process.stderr.write(`CPU profiles are written to ${cpuProfDir}/<system>-<role>/ as the children exit\n`);
} finally {
  await stopAll();
}
