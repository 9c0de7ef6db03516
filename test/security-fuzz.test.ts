import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect as netConnect, createServer as netServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, connectAmqp, createClient } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { pathFrom, startCaptured, type CapturedProcess } from './support/captured-process.js';
import { amqpRequest, contentType, httpBody, httpPath, rawRequest, Rng, token } from './support/fuzz-inputs.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? randomInt(2 ** 31));
const ROUNDS = 4; // the first warms up; memory is compared between the end of it and the end of the last
const AMQP_PER_ROUND = 800;
const HTTP_PER_ROUND = 800;
const RAW_PER_ROUND = 40;
const API_KEY = 'fuzz-api-key-0123456789';
const MB = 1024 * 1024;

/** What went wrong, with enough to reproduce it (seed and index). */
const failures: string[] = [];
function fail(what: string): void {
  if (failures.length < 50) failures.push(what);
}

/** The generator of input `index` of a stream: each input replays alone from the seed, whatever the interleaving. */
function rngFor(stream: number, index: number): Rng {
  return new Rng((SEED ^ Math.imul(stream, 0x85ebca6b) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

async function freePort(): Promise<number> {
  const server = netServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Thousands of random and malformed inputs to a server (raw AMQP) and to the gateway (HTTP and raw sockets): every one
// gets a typed answer (or is dropped by a documented rule), nothing crashes, memory stays flat. Print the seed to replay:
// FUZZ_SEED=<seed> npx vitest run test/security-fuzz.test.ts
describe(`fuzzing (FUZZ_SEED=${SEED})`, () => {
  let vhost: TestVhost;
  let dir: string;
  let server: CapturedProcess;
  let gateway: CapturedProcess;
  let base: string;
  let port: number;
  let raw: ChannelModel;
  let channel: Channel;
  let transport: AmqpTransport;
  const replies = new Map<number, ConsumeMessage[]>();
  const replyQueue = `warren.reply.${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    vhost = await createTestVhost('fuzz');
    dir = mkdtempSync(join(tmpdir(), 'warren-fuzz-'));
    writeFileSync(join(dir, 'keys'), `fuzzer ${API_KEY}\n`);
    writeFileSync(join(dir, 'jwt'), 'fuzz-jwt-secret-that-is-long-enough-for-hs256');
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = startCaptured(
      pathFrom(import.meta.url, './support/test-server-process.ts'),
      { AMQP_URL: vhost.url, INSTANCE: 'fuzz', WARREN_LOG_LEVEL: 'error' },
      { memoryProbe: join(dir, 'server-memory.json') },
    );
    gateway = startCaptured(
      pathFrom(import.meta.url, '../gateway/main.ts'),
      {
        AMQP_URL: vhost.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        WARREN_LOG_LEVEL: 'error',
        GATEWAY_EXPOSE: '*',
        GATEWAY_API_KEYS_FILE: join(dir, 'keys'),
        GATEWAY_JWT_SECRET_FILE: join(dir, 'jwt'),
        GATEWAY_JWT_ISSUER: 'https://idp.fuzz',
        GATEWAY_JWT_AUDIENCE: 'gw',
        GATEWAY_RATE_LIMIT_RPS: '100000',
        GATEWAY_CORS_ORIGINS: 'https://app.example',
        GATEWAY_DEFAULT_TIMEOUT_MS: '5000',
      },
      { memoryProbe: join(dir, 'gateway-memory.json') },
    );
    await server.waitFor(/ready fuzz/, 30_000);
    for (let ready = false; !ready; await new Promise((resolve) => setTimeout(resolve, 100))) {
      if (!gateway.alive()) throw new Error(`gateway exited:\n${gateway.output()}`);
      ready = await fetch(`${base}/readyz`).then(
        (res) => res.ok,
        () => false,
      );
    }
    raw = await connect(vhost.url);
    raw.on('error', () => undefined);
    channel = await raw.createChannel();
    // protocol 2: the raw peer's own exclusive reply queue
    await channel.assertQueue(replyQueue, { exclusive: true, autoDelete: true, durable: false });
    await channel.consume(
      replyQueue,
      (message) => {
        if (!message) return;
        const seq = /^f(\d+)-/.exec(String(message.properties.correlationId ?? ''))?.[1];
        if (seq === undefined) return;
        const list = replies.get(Number(seq)) ?? [];
        list.push(message);
        replies.set(Number(seq), list);
      },
      { noAck: true },
    );
    transport = await connectAmqp({ url: vhost.url, connectionName: 'fuzz-checker' });
  }, 60_000);

  afterAll(async () => {
    await raw?.close().catch(() => undefined);
    await transport?.close();
    server?.kill();
    gateway?.kill();
    await vhost?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes one round of fuzzed requests and checks what came back. */
  async function amqpRound(first: number): Promise<void> {
    const expected = new Map<number, 'reply' | 'none' | 'maybe'>();
    for (let seq = first; seq < first + AMQP_PER_ROUND; seq++) {
      const request = amqpRequest(rngFor(1, seq), seq);
      let target = channel;
      if (request.risky) {
        target = await raw.createChannel();
        target.on('error', () => undefined);
      }
      try {
        // protocol 2: through the default exchange to the service queue; the generator's reply address is ours
        const properties =
          request.properties['replyTo'] === 'amq.rabbitmq.reply-to'
            ? { ...request.properties, replyTo: replyQueue }
            : request.properties;
        const ok = target.publish('', `rpc.${request.routingKey}`, request.body, properties);
        expected.set(seq, request.risky ? 'maybe' : request.expect);
        if (!ok) await new Promise((resolve) => target.once('drain', resolve));
      } catch {
        // amqplib refused to encode it (a header amqplib cannot write): nothing was sent
      }
      if (request.risky) await target.close().catch(() => undefined);
    }
    const wanted = [...expected].filter(([, what]) => what === 'reply').map(([seq]) => seq);
    const until = Date.now() + 20_000;
    while (wanted.some((seq) => !replies.has(seq)) && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 100));
    // a little longer for replies that must not come
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const [seq, what] of expected) {
      const got = replies.get(seq) ?? [];
      if (what === 'reply' && got.length === 0) fail(`amqp #${seq}: no reply`);
      if (what === 'none' && got.length > 0) fail(`amqp #${seq}: a reply came to a request that must be dropped`);
      if (got.length > 1) fail(`amqp #${seq}: ${got.length} replies`);
      for (const reply of got) {
        const status = reply.properties.headers?.['warren-status'];
        if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 16)
          fail(`amqp #${seq}: reply without a valid warren-status (${String(status)})`);
        if (status !== 0 && reply.properties.headers?.['warren-message'] === undefined && reply.content.length === 0)
          fail(`amqp #${seq}: error reply with no message`);
      }
      replies.delete(seq);
    }
  }

  /** One HTTP request; what is wrong with the answer goes to `failures`. */
  function httpOne(agent: Agent, index: number): Promise<void> {
    const rng = rngFor(2, index);
    const method = rng.pick([
      'GET',
      'GET',
      'POST',
      'POST',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'OPTIONS',
      'HEAD',
      token(rng, 10).toUpperCase(),
    ]);
    const path = httpPath(rng);
    const { body, kind } =
      rng.chance(0.7) || method === 'POST' ? httpBody(rng) : { body: Buffer.alloc(0), kind: 'none' };
    const headers: Record<string, string> = {};
    const type = contentType(rng);
    if (type !== undefined && body.length > 0) headers['content-type'] = type;
    // node's client frames a GET/DELETE/OPTIONS body only with an explicit length (else the bytes would read as a next request)
    if (body.length > 0) headers['content-length'] = String(body.length);
    const auth = rng.int(10);
    if (auth < 7) headers['x-api-key'] = API_KEY;
    else if (auth === 7)
      headers['authorization'] =
        `Bearer ${[0, 1, 2].map(() => Buffer.from(JSON.stringify({ alg: rng.pick(['HS256', 'none', 'RS256']), sub: rng.unicode(5) })).toString('base64url')).join('.')}`;
    else if (auth === 8) headers['authorization'] = `${token(rng)} ${rng.ascii(rng.int(100))}`;
    for (let i = rng.int(8); i > 0; i--) headers[token(rng).toLowerCase()] = rng.ascii(rng.int(200));
    if (rng.chance(0.1))
      headers['x-warren-timeout-ms'] = rng.pick(['abc', '-1', '0', '1e3', '99999999999999', '1.5', '4000']);
    if (rng.chance(0.1)) headers['x-request-id'] = rng.ascii(rng.int(300));
    if (rng.chance(0.1))
      headers['origin'] = rng.pick(['https://app.example', 'https://evil.example', 'null', rng.ascii(20)]);
    if (rng.chance(0.05)) headers['access-control-request-method'] = 'POST';
    if (rng.chance(0.05)) headers['traceparent'] = rng.ascii(rng.int(100));
    const what = `http #${index} ${method} ${path.slice(0, 120)} body=${kind}`;
    return new Promise<void>((resolve) => {
      const req = httpRequest(`${base}${path}`, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          const failRoute = path.startsWith('/rpc/warren.test.v1.TestService/Fail');
          if (status >= 500 && status !== 503 && status !== 504 && !(status === 500 && failRoute))
            fail(`${what}: ${status} ${text.slice(0, 200)}`);
          if (status >= 400 && method !== 'HEAD') {
            let parsed: { code?: unknown; message?: unknown } | undefined;
            try {
              parsed = JSON.parse(text) as typeof parsed;
            } catch {
              parsed = undefined;
            }
            if (!parsed || typeof parsed.code !== 'number' || typeof parsed.message !== 'string')
              fail(`${what}: ${status} without a JSON error body: ${text.slice(0, 200)}`);
            else if (/\n\s+at |node_modules|\.ts:\d+/.test(parsed.message))
              fail(`${what}: internal detail in the message: ${parsed.message.slice(0, 200)}`);
            if (!String(res.headers['content-type']).startsWith('application/json'))
              fail(`${what}: ${status} with content-type ${String(res.headers['content-type'])}`);
          }
          if (res.headers['x-content-type-options'] !== 'nosniff') fail(`${what}: no nosniff header`);
          resolve();
        });
        res.on('error', () => resolve());
      });
      req.setTimeout(15_000, () => {
        fail(`${what}: no answer in 15 s`);
        req.destroy();
      });
      // a refused body closes the connection before it was all sent: that is the gateway's choice, not a failure
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (!['ECONNRESET', 'EPIPE'].includes(error.code ?? '')) fail(`${what}: ${error.message}`);
        resolve();
      });
      req.end(body);
    });
  }

  /** Raw bytes on a socket: if anything comes back it must be an HTTP answer below 500. */
  function rawOne(index: number): Promise<void> {
    const bytes = rawRequest(rngFor(3, index), API_KEY);
    return new Promise<void>((resolve) => {
      const socket = netConnect(port, '127.0.0.1', () => socket.end(bytes));
      let answer = '';
      socket.setTimeout(5_000, () => socket.destroy());
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (answer !== '') {
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
          if (status === 0 || (status >= 500 && status !== 503))
            fail(
              `raw #${index} (${JSON.stringify(bytes.subarray(0, 60).toString('latin1'))}): ${answer.slice(0, 120)}`,
            );
        }
        resolve();
      });
    });
  }

  async function httpRound(first: number): Promise<void> {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const queue = Array.from({ length: HTTP_PER_ROUND }, (_, i) => first + i);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let index = queue.shift(); index !== undefined; index = queue.shift()) await httpOne(agent, index);
      }),
    );
    agent.destroy();
    for (let i = 0; i < RAW_PER_ROUND; i += 8)
      await Promise.all(Array.from({ length: 8 }, (_, j) => rawOne(first + i + j)));
  }

  async function stillServing(): Promise<void> {
    expect(server.alive(), `server died:\n${server.output().slice(-3000)}`).toBe(true);
    expect(gateway.alive(), `gateway died:\n${gateway.output().slice(-3000)}`).toBe(true);
    const reply = await createClient(TestServiceDefinition, transport).echo(
      { text: 'after fuzz' },
      { timeoutMs: 10_000 },
    );
    expect(reply.text).toBe('after fuzz');
    const res = await fetch(`${base}/rpc/warren.test.v1.TestService/Echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: '{"text":"after fuzz"}',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { text: string }).text).toBe('after fuzz');
  }

  it('every input gets a typed answer, nothing crashes, memory stays flat', async () => {
    let baseline: { server: { heapUsed: number; rss: number }; gateway: { heapUsed: number; rss: number } } | undefined;
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all([amqpRound(round * AMQP_PER_ROUND), httpRound(round * HTTP_PER_ROUND)]);
      await stillServing();
      if (round === 0) baseline = { server: await server.memory(), gateway: await gateway.memory() };
    }
    const end = { server: await server.memory(), gateway: await gateway.memory() };
    const growth = (what: 'server' | 'gateway', field: 'heapUsed' | 'rss') =>
      (end[what][field] - baseline![what][field]) / MB;
    console.log(
      `fuzz seed ${SEED}: ${ROUNDS * AMQP_PER_ROUND} AMQP requests, ${ROUNDS * HTTP_PER_ROUND} HTTP requests, ${ROUNDS * RAW_PER_ROUND} raw sockets in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `growth after round 1 (MB, after GC): server heap ${growth('server', 'heapUsed').toFixed(1)} rss ${growth('server', 'rss').toFixed(1)}, gateway heap ${growth('gateway', 'heapUsed').toFixed(1)} rss ${growth('gateway', 'rss').toFixed(1)}`,
    );
    expect(failures, `seed ${SEED}`).toEqual([]);
    expect(growth('server', 'heapUsed')).toBeLessThan(50);
    expect(growth('gateway', 'heapUsed')).toBeLessThan(50);
    expect(growth('server', 'rss')).toBeLessThan(100);
    expect(growth('gateway', 'rss')).toBeLessThan(100);
  }, 120_000);
});
