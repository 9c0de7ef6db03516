/**
 * Soak: steady RPC and event load for a long time, watching the memory and
 * file descriptors of the client and server processes for growth (not CI).
 *
 *   npm run bench:soak -- [--minutes 10] [--sample 10] [--faults] [--fault-every 30]
 *                         [--concurrency 8] [--events-per-second 50]
 *
 * Two child processes (tsx, `--expose-gc`) in a throw-away vhost: a server
 * (TestService, an OrderShipped subscriber) and a client keeping
 * `--concurrency` calls in flight (70 % echo, 20 % sleep 5 ms, 10 % increment)
 * and publishing `--events-per-second` events. Every `--sample` seconds each
 * child reports RSS, heap used after a full GC and its open fds
 * (/proc/self/fd); the table shows them with the load done. `--faults` puts
 * both behind a TCP proxy and resets every connection every `--fault-every`
 * seconds, so reconnection is soaked too. At the end: first/last/max of
 * each metric, its trend per hour (least squares over the samples after the
 * first 20 %) and a verdict; the table's last row is sampled after the load
 * stopped (not part of the trend). The last line is the same data as JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_AMQP_URL } from '../core/index.js';
import { createTcpProxy } from '../test/support/tcp-proxy.js';
import { createBenchVhost } from './rpc/vhost.js';
import type { SoakCommand, SoakReport, SoakSample } from './soak/protocol.js';
import { formatRows, formatVerdict, trends, type SoakRow } from './soak/report.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    sample: { type: 'string', default: '10' },
    faults: { type: 'boolean', default: false },
    'fault-every': { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '8' },
    'events-per-second': { type: 'string', default: '50' },
  },
});
const positive = (name: string, raw: string): number => {
  const value = Number(raw);
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return value;
};
const minutes = positive('minutes', values.minutes);
const sampleSeconds = positive('sample', values.sample);
const faultEvery = positive('fault-every', values['fault-every']);
const concurrency = positive('concurrency', values.concurrency);
const eventsPerSecond = positive('events-per-second', values['events-per-second']);

interface SoakChild {
  readonly pid: number;
  sample(): Promise<SoakSample>;
  stop(): Promise<SoakSample>;
}

const script = fileURLToPath(new URL('./soak/soak-child.ts', import.meta.url));

/** Forks a soak child and waits for its `ready`; answers arrive in order, one per command. */
async function spawnChild(role: 'server' | 'client', url: string): Promise<SoakChild & { process: ChildProcess }> {
  const child = fork(script, [role], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: {
      ...process.env,
      SOAK_URL: url,
      SOAK_CONCURRENCY: String(concurrency),
      SOAK_EVENTS_PER_SECOND: String(eventsPerSecond),
      WARREN_LOG_LEVEL: process.env['WARREN_LOG_LEVEL'] ?? 'silent',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: ((report: SoakReport) => void)[] = [];
  child.on('message', (report: SoakReport) => waiting.shift()?.(report));
  const next = (): Promise<SoakReport> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void =>
        reject(new Error(`soak ${role} (pid ${child.pid}) exited with ${code}`));
      child.once('exit', onExit);
      waiting.push((report) => {
        child.off('exit', onExit);
        resolve(report);
      });
    });
  const ask = async (command: SoakCommand): Promise<SoakSample> => {
    const answer = next();
    child.send(command);
    const report = await answer;
    if (report.type === 'ready') throw new Error('unexpected ready');
    return report.sample;
  };
  await next();
  return { pid: child.pid!, process: child, sample: () => ask({ type: 'sample' }), stop: () => ask({ type: 'stop' }) };
}

const vhost = await createBenchVhost(process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL);
const proxy = values.faults ? createTcpProxy() : undefined;
let url = vhost.url;
if (proxy) {
  const direct = new URL(vhost.url);
  const port = await proxy.start(Number(direct.port || 5672), direct.hostname);
  direct.hostname = '127.0.0.1';
  direct.port = String(port);
  url = direct.toString();
}

const children: (SoakChild & { process: ChildProcess })[] = [];
try {
  const server = await spawnChild('server', url);
  children.push(server);
  const client = await spawnChild('client', url);
  children.push(client);
  console.log(
    `soak: ${minutes} min, sample every ${sampleSeconds} s, ${concurrency} calls in flight, ${eventsPerSecond} events/s, faults ${proxy ? `every ${faultEvery} s` : 'off'}; server pid ${server.pid}, client pid ${client.pid}`,
  );

  const started = Date.now();
  const end = started + minutes * 60_000;
  const rows: SoakRow[] = [];
  let cuts = 0;
  let nextCut = started + faultEvery * 1000;
  let nextSample = started;
  while (Date.now() < end) {
    const now = Date.now();
    if (proxy && now >= nextCut) {
      proxy.cut();
      cuts++;
      nextCut += faultEvery * 1000;
    }
    if (now >= nextSample) {
      const [s, c] = await Promise.all([server.sample(), client.sample()]);
      rows.push({ seconds: Math.round((s.at - started) / 1000), server: s, client: c });
      process.stdout.write(`\r${rows.length} samples, ${Math.round((now - started) / 1000)} s`);
      nextSample += sampleSeconds * 1000;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  process.stdout.write('\n');
  const finalClient = await client.stop();
  const finalServer = await server.stop();

  // the table ends with the samples taken after the load stopped (not part of the trend)
  console.log(
    formatRows([
      ...rows,
      { seconds: Math.round((finalClient.at - started) / 1000), server: finalServer, client: finalClient },
    ]),
  );
  console.log('');
  const list = trends(rows);
  console.log(formatVerdict(list, minutes));
  const failed = Object.entries(finalClient.counters.calls).filter(([code]) => code !== '0');
  console.log(
    `calls: ${finalClient.counters.calls['0'] ?? 0} ok, failed by code ${JSON.stringify(Object.fromEntries(failed))}; handler runs ${finalServer.counters.calls['0'] ?? 0}; events published ${finalClient.counters.events}, received ${finalServer.counters.events}, publish failures ${JSON.stringify(finalClient.counters.eventFailures)}; connection cuts ${cuts}, reconnections client ${finalClient.counters.reconnections} server ${finalServer.counters.reconnections}`,
  );
  console.log(
    JSON.stringify({
      minutes,
      faults: Boolean(proxy),
      cuts,
      trends: list,
      final: { client: finalClient, server: finalServer },
    }),
  );
} finally {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  await proxy?.close();
  await vhost.remove();
}
