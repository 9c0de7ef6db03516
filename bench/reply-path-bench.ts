/**
 * Reply path: RabbitMQ direct reply-to (protocol 1) vs a per-connection
 * exclusive, auto-delete reply queue `warren.reply.<random>` (protocol 2),
 * with everything else equal (raw amqplib client and server, 64-byte echo,
 * requests through the default exchange, prefetch 256, TCP_NODELAY).
 *
 *   npx tsx bench/reply-path-bench.ts [seconds per cell, default 3] [rounds, default 5]
 *
 * Each round runs every (path, concurrency) cell once, the two paths
 * interleaved, after a 1 s warm-up per cell (not counted). Printed: median
 * calls/s over the rounds, the median of the per-round paired ratios (reply
 * queue / direct reply-to), CPU µs per call of this process (client and
 * server share it) and of the broker (found through rabbitmqctl; the broker
 * is shared, so others' load shows up there).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { brokerCpuReader } from './rpc/broker-cpu.js';
import { runLoad } from './rpc/load-loop.js';
import { median } from './rpc/stats.js';
import { createBenchVhost } from './rpc/vhost.js';

const SECONDS = Number(process.argv[2] ?? 3);
const ROUNDS = Number(process.argv[3] ?? 5);
const WARMUP_SECONDS = 1;
const QUEUE = 'bench.reply-path.echo';
const BODY = randomBytes(64);
type Path = 'direct reply-to' | 'reply queue';

async function serve(url: string): Promise<ChannelModel> {
  const model = await connect(url, { noDelay: true });
  const channel = await model.createChannel();
  await channel.prefetch(256);
  await channel.assertQueue(QUEUE, { durable: false });
  await channel.consume(QUEUE, (message) => {
    if (!message) return;
    channel.publish('', message.properties.replyTo as string, message.content, {
      correlationId: message.properties.correlationId as string,
    });
    channel.ack(message);
  });
  return model;
}

async function client(url: string, path: Path): Promise<{ call: () => Promise<unknown>; model: ChannelModel }> {
  const model = await connect(url, { noDelay: true });
  const channel: Channel = await model.createChannel();
  let replyTo = 'amq.rabbitmq.reply-to';
  if (path === 'reply queue') {
    replyTo = `warren.reply.${randomBytes(16).toString('hex')}`;
    await channel.assertQueue(replyTo, { exclusive: true, autoDelete: true, durable: false });
  }
  const pending = new Map<string, () => void>();
  await channel.consume(
    replyTo,
    (message) => {
      if (!message) return;
      const id = message.properties.correlationId as string;
      pending.get(id)?.();
      pending.delete(id);
    },
    { noAck: true },
  );
  let counter = 0;
  return {
    model,
    call: () =>
      new Promise<void>((resolve) => {
        const id = String(counter++);
        pending.set(id, resolve);
        channel.sendToQueue(QUEUE, BODY, { replyTo, correlationId: id });
      }),
  };
}

const vhost = await createBenchVhost(process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672');
const broker = await brokerCpuReader();
const server = await serve(vhost.url);
const clients = {
  'direct reply-to': await client(vhost.url, 'direct reply-to'),
  'reply queue': await client(vhost.url, 'reply queue'),
};
const results = new Map<string, { rate: number; cpu: number; broker: number }[]>();
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const concurrency of [1, 16]) {
      const order: Path[] = round % 2 === 0 ? ['direct reply-to', 'reply queue'] : ['reply queue', 'direct reply-to'];
      for (const path of order) {
        const brokerBefore = broker?.() ?? 0;
        const run = await runLoad(clients[path].call, concurrency, SECONDS, WARMUP_SECONDS);
        const key = `${path}@${concurrency}`;
        // CPU is over the whole run (warm-up included), so per call over every call of it
        results.set(key, [
          ...(results.get(key) ?? []),
          {
            rate: run.callsPerSecond,
            cpu: run.cpuMicros / run.totalCalls,
            broker: broker ? (broker() - brokerBefore) / run.totalCalls : NaN,
          },
        ]);
      }
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
  console.log(
    `reply path, 64-byte echo, ${ROUNDS} interleaved rounds × ${SECONDS} s per cell after ${WARMUP_SECONDS} s warm-up`,
  );
  console.log(
    '| concurrency | direct reply-to calls/s | reply queue calls/s | paired ratio (queue/direct) | µs CPU/call client+server (direct / queue) | µs broker CPU/call (direct / queue) |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const concurrency of [1, 16]) {
    const direct = results.get(`direct reply-to@${concurrency}`)!;
    const queue = results.get(`reply queue@${concurrency}`)!;
    const ratios = direct.map((cell, i) => queue[i]!.rate / cell.rate);
    const fmt = (values: number[]): string => median(values).toFixed(0);
    console.log(
      `| ${concurrency} | ${fmt(direct.map((c) => c.rate))} | ${fmt(queue.map((c) => c.rate))} | ${median(ratios).toFixed(2)}x (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}) | ${fmt(direct.map((c) => c.cpu))} / ${fmt(queue.map((c) => c.cpu))} | ${fmt(direct.map((c) => c.broker))} / ${fmt(queue.map((c) => c.broker))} |`,
    );
  }
} finally {
  for (const entry of Object.values(clients)) await entry.model.close();
  await server.close();
  await vhost.remove();
}
