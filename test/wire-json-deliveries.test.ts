import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, listQueues, type TestVhost } from './support/broker.js';
import { runScript, testServerScript, type ChildScript } from './support/child-process.js';

// On the wire, as a foreign peer would send it: raw AMQP to a real Warren server.
describe('a real server: caller-written warren-deliveries, and proto3 JSON bodies', () => {
  let vhost: TestVhost;
  let server: ChildScript;
  let connection: amqp.ChannelModel;
  let channel: amqp.Channel;
  const replies = new Map<string, (message: amqp.ConsumeMessage) => void>();
  // protocol 2 (PROTOCOL.md "Versions"): replies come to an exclusive warren.reply.<random> queue of the caller's own
  const replyQueue = `warren.reply.${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    vhost = await createTestVhost('wire-json');
    server = runScript(testServerScript, { AMQP_URL: vhost.url, INSTANCE: 'wire-json' });
    await server.waitFor(/^ready /);
    connection = await amqp.connect(vhost.url);
    channel = await connection.createChannel();
    await channel.assertQueue(replyQueue, { exclusive: true, autoDelete: true, durable: false });
    await channel.consume(
      replyQueue,
      (message) => message && replies.get(message.properties.correlationId as string)?.(message),
      { noAck: true },
    );
  }, 60_000);

  afterAll(async () => {
    await connection?.close();
    server?.kill();
    await server?.exited;
    await vhost?.remove();
  });

  let next = 0;
  const call = (
    method: string,
    body: string,
    headers: Record<string, unknown> = {},
  ): Promise<{ status: number; body: string }> => {
    const correlationId = `c-${next++}`;
    const reply = new Promise<amqp.ConsumeMessage>((resolve) => replies.set(correlationId, resolve));
    // protocol 2: through the default exchange, straight to the service queue
    channel.publish('', 'rpc.warren.test.v1.TestService', Buffer.from(body), {
      type: `warren.test.v1.TestService/${method}`,
      correlationId,
      replyTo: replyQueue,
      contentType: 'application/json',
      expiration: '10000',
      headers: { 'warren-deadline': Date.now() + 10_000, 'warren-protocol': 2, ...headers },
    });
    return reply.then((message) => ({
      status: Number(message.properties.headers?.['warren-status']),
      body: message.content.toString(),
    }));
  };

  it('ignores warren-deliveries from a caller: a first-time request runs and nothing is dead-lettered', async () => {
    const reply = await call('Echo', '{"text": "first time"}', { 'warren-deliveries': 9 });
    expect(reply.status).toBe(0);
    expect(JSON.parse(reply.body)).toMatchObject({ text: 'first time' });
    const dead = (await listQueues(vhost.name)).find((queue) => queue.name === 'rpc.warren.test.v1.TestService.dead');
    expect(dead?.messages ?? 0).toBe(0);
  });

  it('reads an int64 beyond 2^53 exactly (number or string) and writes it back as a string', async () => {
    for (const number of ['9007199254740993', '"9007199254740993"']) {
      const reply = await call('Echo', `{"text": "big", "number": ${number}}`);
      expect(reply.status).toBe(0);
      expect(reply.body).toContain('"number":"9007199254740993"');
    }
  });

  it.each(['4294967298e100', '1e400', '"0x2"', '" 2"', '"2 "', '1.5'])(
    'refuses "number": %s with INVALID_ARGUMENT naming the field',
    async (value) => {
      const reply = await call('Echo', `{"text": "bad", "number": ${value}}`);
      expect(reply.status).toBe(3);
      expect(JSON.parse(reply.body).message).toContain('number:');
    },
  );
});
