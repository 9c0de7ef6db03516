/**
 * The HTTP gateway vs the ceiling: a plain node:http server doing one raw
 * amqplib RPC per request, against the same backend, in the same run; and
 * the same gateway driven in its other protocols: Connect (JSON over
 * HTTP/1.1, autocannon like the JSON route) and gRPC (HTTP/2 prior
 * knowledge, one connection multiplexing `conns` concurrent calls, as gRPC
 * clients do; driven by a node:http2 loop in this process).
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
import { EchoRequest, TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { encodeEnvelope } from '../gateway/protocols/envelope.js';
import { connect as connectHttp2 } from 'node:http2';
import { createTestVhost } from '../test/support/broker.js';
import { testService } from '../core/testing/test-service.js';

const SERVICE = 'warren.test.v1.TestService';
const PATH = `/rpc/${SERVICE}/Echo`;
const BODY = JSON.stringify({ text: 'hello gateway', number: '42', tags: ['a', 'b'] });
/** The same request for the gRPC-family runs: `/<service>/<method>`, and the message framed for gRPC. */
const METHOD_PATH = `/${SERVICE}/Echo`;
const GRPC_BODY = encodeEnvelope(0, EchoRequest.encode(EchoRequest.fromJSON(JSON.parse(BODY))).finish());
/** What each run drives: the gateway in three protocols, and the ceiling (JSON). */
const TARGETS = ['json', 'connect', 'grpc', 'ceiling'] as const;
type Target = (typeof TARGETS)[number];

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
  await createServer({ transport, prefetch: 256, instance: 'bench' })
    .add(TestServiceDefinition, testService('bench').implementation)
    .start();
  process.stdout.write('ready\n');
} else if (values.role === 'gateway') {
  const transport = await connectAmqp({ url, connectionName: 'bench-gw-gateway' });
  const gateway = createGateway({
    transport,
    protos: await loadProtos({ root: 'proto' }),
    expose: ['warren.test.v1.TestService/*'],
  });
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
  // protocol 2: an exclusive reply queue of the bridge's own (servers no longer answer direct reply-to)
  const replyQueue = `warren.reply.${randomBytes(16).toString('hex')}`;
  await channel.assertQueue(replyQueue, { exclusive: true, autoDelete: true, durable: false });
  await channel.consume(
    replyQueue,
    (message) => {
      if (!message) return;
      const id = message.properties.correlationId as string;
      const done = pending.get(id);
      if (!done) return;
      pending.delete(id);
      done(Number(message.properties.headers?.['warren-status'] ?? 2) === 0 ? 200 : 500, message.content);
    },
    { noAck: true },
  );
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
      channel.publish('', `rpc.${SERVICE}`, Buffer.concat(chunks), {
        correlationId: id,
        replyTo: replyQueue,
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
  const profile = process.env['BENCH_PROFILE_DIR']
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', fileURLToPath(import.meta.url), '--role', role],
    {
      env: { ...process.env, BENCH_AMQP_URL: vhostUrl, WARREN_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
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

async function load(
  target: Target,
  port: number,
  connections: number,
  seconds: number,
  pids: { front: number; backend: number },
): Promise<Sample> {
  if (target === 'grpc') return loadGrpc(port, connections, seconds, pids);
  const front = cpuMicros(pids.front);
  const backend = cpuMicros(pids.backend);
  const connect = target === 'connect';
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${connect ? METHOD_PATH : PATH}`,
    method: 'POST',
    headers: connect
      ? { 'content-type': 'application/json', 'connect-protocol-version': '1' }
      : { 'content-type': 'application/json' },
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

/**
 * gRPC load: one HTTP/2 connection, `concurrency` calls in flight at all
 * times (a call starts when one ends), for `seconds`. A call counts as an
 * error unless it ends with grpc-status 0.
 */
async function loadGrpc(
  port: number,
  concurrency: number,
  seconds: number,
  pids: { front: number; backend: number },
): Promise<Sample> {
  const front = cpuMicros(pids.front);
  const backend = cpuMicros(pids.backend);
  const session = connectHttp2(`http://127.0.0.1:${port}`);
  await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const one = (): Promise<boolean> =>
    new Promise((resolve) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': METHOD_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      let ok = false;
      stream.on('trailers', (trailers) => (ok = trailers['grpc-status'] === '0'));
      stream.on('data', () => undefined);
      stream.on('close', () => resolve(ok));
      stream.on('error', () => resolve(false));
      stream.end(GRPC_BODY);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const callStarted = performance.now();
        if (!(await one())) errors++;
        latencies.push(performance.now() - callStarted);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  session.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const requests = Math.max(1, latencies.length);
  return {
    requestsPerSecond: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    errors,
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
    for (const child of children)
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
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
    const targets: Record<Target, { port: number; pids: { front: number; backend: number } }> = {
      json: { port: gateway.port, pids: { front: gateway.child.pid!, backend: backend.child.pid! } },
      connect: { port: gateway.port, pids: { front: gateway.child.pid!, backend: backend.child.pid! } },
      grpc: { port: gateway.port, pids: { front: gateway.child.pid!, backend: backend.child.pid! } },
      ceiling: { port: ceiling.port, pids: { front: ceiling.child.pid!, backend: backend.child.pid! } },
    };
    for (const name of TARGETS) await load(name, targets[name].port, 16, Number(values.warmup), targets[name].pids);

    const samples = new Map<number, Record<Target, Sample[]>>(
      levels.map((c) => [c, { json: [], connect: [], grpc: [], ceiling: [] }]),
    );
    for (let round = 0; round < rounds; round++) {
      for (const [index, connections] of levels.entries()) {
        // every target goes first once in a while: rotate the order by round and level
        const shift = (round + index) % TARGETS.length;
        const order = [...TARGETS.slice(shift), ...TARGETS.slice(0, shift)];
        for (const name of order) {
          const sample = await load(name, targets[name].port, connections, seconds, targets[name].pids);
          samples.get(connections)![name].push(sample);
          process.stderr.write(
            `round ${round + 1}/${rounds} c=${connections} ${name.padEnd(7)} ${Math.round(sample.requestsPerSecond)} req/s p50 ${sample.p50.toFixed(2)} ms p99 ${sample.p99.toFixed(2)} ms ` +
              `cpu/req front ${sample.frontCpuUs.toFixed(0)} µs backend ${sample.backendCpuUs.toFixed(0)} µs${sample.errors ? ` errors ${sample.errors}` : ''}\n`,
          );
        }
      }
    }

    const pick = (list: Sample[], key: keyof Sample): number => median(list.map((s) => s[key]));
    const rows = levels.flatMap((connections) => {
      const byTarget = samples.get(connections)!;
      return TARGETS.map((target) => {
        const list = byTarget[target];
        // paired ratios: sample i of this target against sample i of the other, same round
        const ratio = (other: Target): number =>
          median(list.map((sample, i) => sample.requestsPerSecond / byTarget[other][i]!.requestsPerSecond));
        return {
          connections,
          target,
          rps: pick(list, 'requestsPerSecond'),
          p50: pick(list, 'p50'),
          p99: pick(list, 'p99'),
          cpuUs: pick(list, 'frontCpuUs'),
          backendCpuUs: pick(list, 'backendCpuUs'),
          errors: list.reduce((n, s) => n + s.errors, 0),
          vsJson: ratio('json'),
          vsCeiling: ratio('ceiling'),
        };
      });
    });
    const header = [
      'conns',
      'target',
      'req/s',
      'p50 ms',
      'p99 ms',
      'cpu µs/req',
      'errors',
      'req/s vs json',
      'req/s vs ceiling',
    ];
    const lines = rows.map((row) => [
      String(row.connections),
      row.target,
      row.rps.toFixed(0),
      row.p50.toFixed(2),
      row.p99.toFixed(2),
      `${row.cpuUs.toFixed(0)}+${row.backendCpuUs.toFixed(0)}`,
      String(row.errors),
      `${row.vsJson.toFixed(2)}x`,
      `${row.vsCeiling.toFixed(2)}x`,
    ]);
    const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
    const format = (cells: string[]): string => cells.map((cell, i) => cell.padStart(widths[i]!)).join('  ');
    console.log(
      `\nEcho through the gateway: json = POST ${PATH}, connect = POST ${METHOD_PATH} (Connect JSON, HTTP/1.1), grpc = ${METHOD_PATH} over HTTP/2 (one connection, conns calls in flight); ` +
        `ceiling = plain node:http + amqplib. ${seconds} s per run, ${rounds} rounds, ${values.warmup} s warm-up each; medians; ratios paired per round; cpu: front + backend process CPU per request`,
    );
    console.log(format(header));
    for (const line of lines) console.log(format(line));
    console.log(JSON.stringify({ seconds, rounds, rows }));
  } finally {
    stopChildren();
    await vhost.remove();
  }
}
