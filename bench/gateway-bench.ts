/**
 * The HTTP gateway vs the ceiling: a plain node:http server doing one raw
 * amqplib RPC per request, against the same backend, in the same run.
 *
 *   npx tsx bench/gateway-bench.ts [--seconds 5] [--rounds 3] [--connections 1,16,128] [--warmup 3]
 *
 * Processes (tsx), one AMQP connection each, in a throw-away vhost:
 *
 * ```text
 *   autocannon (this process) ──HTTP──▶ gateway  (createGateway, JSON→protobuf, breaker, metrics)  ─┐
 *                             └─HTTP──▶ ceiling  (node:http, body passed through as JSON, one       ├─AMQP─▶ backend
 *                                                 publish + direct reply-to per request)           ─┘      (createServer, TestService, prefetch 256)
 * ```
 *
 * Both are driven with `POST /rpc/warren.test.v1.TestService/Echo` and the
 * same JSON body, keep-alive, no pipelining. Each round runs every level for
 * both, alternating who goes first; the table shows medians across rounds
 * and gateway/ceiling ratios (requests/s: higher is better; latency: lower).
 * The last line is the same data as JSON. `BENCH_PROFILE_DIR=/tmp/prof`
 * makes the gateway, ceiling and backend processes write V8 CPU profiles
 * there (one per thread; the main thread's is the `.0.001` file).
 */
import autocannon from 'autocannon';
import { connect } from 'amqplib';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectAmqp, createServer } from '../core/index.js';
import { DEADLINE_HEADER } from '../core/protocol/index.js';
import { loadProtos } from '../core/tooling.js';
import { createGateway } from '../gateway/create-gateway.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost } from '../test/support/broker.js';
import { testService } from '../core/testing/test-service.js';

const SERVICE = 'warren.test.v1.TestService';
const PATH = `/rpc/${SERVICE}/Echo`;
const BODY = JSON.stringify({ text: 'hello gateway', number: '42', tags: ['a', 'b'] });

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '1,16,128' },
  },
});
const url = process.env['BENCH_AMQP_URL'] ?? '';
if (values.role !== undefined) {
  // Exit normally on a signal, so `--cpu-prof` can write its profile.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
}

if (values.role === 'backend') {
  const transport = await connectAmqp({ url, connectionName: 'bench-gw-backend' });
  await createServer({ transport, prefetch: 256, instance: 'bench' }).add(TestServiceDefinition, testService('bench').implementation).start();
  process.stdout.write('ready\n');
} else if (values.role === 'gateway') {
  const transport = await connectAmqp({ url, connectionName: 'bench-gw-gateway' });
  const gateway = createGateway({ transport, protos: await loadProtos({ root: 'proto' }), expose: ['warren.test.v1.TestService/*'] });
  const { port } = await gateway.listen(0, '127.0.0.1');
  process.stdout.write(`ready ${port}\n`);
} else if (values.role === 'ceiling') {
  await runCeiling();
} else {
  await runBench();
}

/**
 * The ceiling: what a minimal HTTP→RabbitMQ gateway does and nothing more.
 * Plain channel (no confirms, no mandatory), the HTTP body published as the
 * JSON request, the reply body written back.
 */
async function runCeiling(): Promise<void> {
  const model = await connect(url, { noDelay: true, clientProperties: { connection_name: 'bench-gw-ceiling' } });
  const channel = await model.createChannel();
  const pending = new Map<string, (status: number, body: Buffer) => void>();
  await channel.consume('amq.rabbitmq.reply-to', (message) => {
    if (!message) return;
    const id = message.properties.correlationId as string;
    const done = pending.get(id);
    if (!done) return;
    pending.delete(id);
    done(Number(message.properties.headers?.['warren-status'] ?? 2) === 0 ? 200 : 500, message.content);
  }, { noAck: true });
  let counter = 0;
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const id = (counter++).toString(36);
      pending.set(id, (status, body) => {
        response.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
        response.end(body);
      });
      channel.publish('warren.rpc', SERVICE, Buffer.concat(chunks), {
        correlationId: id,
        replyTo: 'amq.rabbitmq.reply-to',
        contentType: 'application/json',
        type: `${SERVICE}/Echo`,
        expiration: '10000',
        headers: { [DEADLINE_HEADER]: Date.now() + 10_000 },
      });
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    process.stdout.write(`ready ${address.port}\n`);
  });
}

interface Sample {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the front process (gateway or ceiling) per request, µs. */
  frontCpuUs: number;
  /** CPU time of the backend per request, µs. */
  backendCpuUs: number;
}

/** User + system CPU time of a process so far, in µs (Linux /proc; 0 elsewhere). */
function cpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

function startChild(role: string, vhostUrl: string): Promise<{ child: ChildProcess; port: number }> {
  // `node --import tsx` (not the tsx CLI, which forks again) so the PID is the process doing the work.
  // BENCH_PROFILE_DIR=<dir>: each child writes a V8 CPU profile there when it exits (node won't take --cpu-prof in NODE_OPTIONS)
  const profile = process.env['BENCH_PROFILE_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', fileURLToPath(import.meta.url), '--role', role], {
    env: { ...process.env, BENCH_AMQP_URL: vhostUrl, WARREN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${role} was not ready within 60 s`));
    }, 60_000);
    child.once('exit', () => clearTimeout(timer));
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^ready ?(\d*)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1] || 0) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before it was ready`)));
  });
}

async function load(port: number, connections: number, seconds: number, pids: { front: number; backend: number }): Promise<Sample> {
  const front = cpuMicros(pids.front);
  const backend = cpuMicros(pids.backend);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${PATH}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    connections,
    pipelining: 1,
    duration: seconds,
  });
  const requests = Math.max(1, result.requests.total);
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    frontCpuUs: (cpuMicros(pids.front) - front) / requests,
    backendCpuUs: (cpuMicros(pids.backend) - backend) / requests,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function runBench(): Promise<void> {
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const levels = values.connections!.split(',').map(Number);
  const vhost = await createTestVhost(`bench-gw-${randomBytes(2).toString('hex')}`);
  const children: ChildProcess[] = [];
  const stopChildren = (): void => {
    for (const child of children) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
  };
  const onSignal = (): void => {
    stopChildren();
    void vhost.remove().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const backend = await startChild('backend', vhost.url);
    const gateway = await startChild('gateway', vhost.url);
    const ceiling = await startChild('ceiling', vhost.url);
    children.push(backend.child, gateway.child, ceiling.child);
    const targets = {
      gateway: { port: gateway.port, pids: { front: gateway.child.pid!, backend: backend.child.pid! } },
      ceiling: { port: ceiling.port, pids: { front: ceiling.child.pid!, backend: backend.child.pid! } },
    } as const;
    for (const target of Object.values(targets)) await load(target.port, 16, Number(values.warmup), target.pids);

    const samples = new Map<number, { gateway: Sample[]; ceiling: Sample[] }>(levels.map((c) => [c, { gateway: [], ceiling: [] }]));
    for (let round = 0; round < rounds; round++) {
      for (const [index, connections] of levels.entries()) {
        const order: ('gateway' | 'ceiling')[] = (round + index) % 2 === 0 ? ['gateway', 'ceiling'] : ['ceiling', 'gateway'];
        for (const name of order) {
          const sample = await load(targets[name].port, connections, seconds, targets[name].pids);
          samples.get(connections)![name].push(sample);
          process.stderr.write(
            `round ${round + 1}/${rounds} c=${connections} ${name.padEnd(7)} ${Math.round(sample.requestsPerSecond)} req/s p50 ${sample.p50} ms p99 ${sample.p99} ms ` +
              `cpu/req front ${sample.frontCpuUs.toFixed(0)} µs backend ${sample.backendCpuUs.toFixed(0)} µs${sample.errors ? ` errors ${sample.errors}` : ''}\n`,
          );
        }
      }
    }

    const rows = levels.map((connections) => {
      const { gateway: g, ceiling: c } = samples.get(connections)!;
      const pick = (list: Sample[], key: keyof Sample): number => median(list.map((s) => s[key]));
      const ratios = g.map((sample, i) => sample.requestsPerSecond / c[i]!.requestsPerSecond);
      return {
        connections,
        gateway: { rps: pick(g, 'requestsPerSecond'), p50: pick(g, 'p50'), p99: pick(g, 'p99'), cpuUs: pick(g, 'frontCpuUs'), backendCpuUs: pick(g, 'backendCpuUs'), errors: g.reduce((n, s) => n + s.errors, 0) },
        ceiling: { rps: pick(c, 'requestsPerSecond'), p50: pick(c, 'p50'), p99: pick(c, 'p99'), cpuUs: pick(c, 'frontCpuUs'), backendCpuUs: pick(c, 'backendCpuUs'), errors: c.reduce((n, s) => n + s.errors, 0) },
        rpsRatio: median(ratios),
      };
    });
    const header = ['conns', 'gateway req/s', 'p50 ms', 'p99 ms', 'cpu µs/req', 'ceiling req/s', 'p50 ms', 'p99 ms', 'cpu µs/req', 'req/s ratio', 'p50 ratio', 'p99 ratio'];
    const lines = rows.map((row) => [
      String(row.connections),
      row.gateway.rps.toFixed(0),
      row.gateway.p50.toFixed(2),
      row.gateway.p99.toFixed(2),
      `${row.gateway.cpuUs.toFixed(0)}+${row.gateway.backendCpuUs.toFixed(0)}`,
      row.ceiling.rps.toFixed(0),
      row.ceiling.p50.toFixed(2),
      row.ceiling.p99.toFixed(2),
      `${row.ceiling.cpuUs.toFixed(0)}+${row.ceiling.backendCpuUs.toFixed(0)}`,
      `${row.rpsRatio.toFixed(2)}x`,
      row.ceiling.p50 > 0 ? `${(row.gateway.p50 / row.ceiling.p50).toFixed(2)}x` : '-',
      row.ceiling.p99 > 0 ? `${(row.gateway.p99 / row.ceiling.p99).toFixed(2)}x` : '-',
    ]);
    const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
    const format = (cells: string[]): string => cells.map((cell, i) => cell.padStart(widths[i]!)).join('  ');
    console.log(`\nPOST ${PATH}, ${seconds} s per run, ${rounds} rounds, medians (ratios: gateway / ceiling; cpu: front + backend process CPU per request)`);
    console.log(format(header));
    for (const line of lines) console.log(format(line));
    console.log(JSON.stringify({ seconds, rounds, rows }));
  } finally {
    stopChildren();
    await vhost.remove();
  }
}
