import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient, createServer } from '../core/index.js';
import { decodeStatus } from '../core/protocol/index.js';
import { EchoRequest, EchoResponse, TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, listQueues, type TestVhost } from './support/broker.js';
import { testService, type TestServiceLedger } from '../core/testing/test-service.js';

// What a peer in another language sees and sends: raw amqplib on both sides of Warren.
describe('AMQP wire protocol', () => {
  let vhost: TestVhost;
  let transport: AmqpTransport;
  let raw: ChannelModel;
  let channel: Channel;
  let ledger: TestServiceLedger;
  const replies = new Map<string, ConsumeMessage>();
  const waiters = new Map<string, (message: ConsumeMessage) => void>();
  const replyQueue = `warren.reply.${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    vhost = await createTestVhost('wire');
    transport = await connectAmqp({ url: vhost.url });
    const service = testService('wire');
    ledger = service.ledger;
    await createServer({ transport, instance: 'wire' }).add(TestServiceDefinition, service.implementation).start();
    raw = await connect(vhost.url);
    channel = await raw.createChannel();
    // protocol 2: the caller's own exclusive, auto-delete reply queue named warren.reply.<random>
    await channel.assertQueue(replyQueue, { exclusive: true, autoDelete: true, durable: false });
    await channel.consume(
      replyQueue,
      (message) => {
        if (!message) return;
        const id = String(message.properties.correlationId);
        replies.set(id, message);
        waiters.get(id)?.(message);
      },
      { noAck: true },
    );
  });

  afterAll(async () => {
    await raw.close();
    await transport.close();
    await vhost.remove();
  });

  function rawCall(correlationId: string, body: Buffer, properties: Record<string, unknown>): Promise<ConsumeMessage> {
    const reply = new Promise<ConsumeMessage>((resolve) => waiters.set(correlationId, resolve));
    // protocol 2: through the default exchange, routing key = the service queue
    channel.publish('', 'rpc.warren.test.v1.TestService', body, {
      correlationId,
      replyTo: replyQueue,
      type: 'warren.test.v1.TestService/Echo',
      headers: { 'warren-deadline': Date.now() + 5000 },
      ...properties,
    });
    return reply;
  }

  it('serves a raw protobuf request and answers with status 0 and the response', async () => {
    const reply = await rawCall(
      'ok-1',
      Buffer.from(EchoRequest.encode(EchoRequest.fromPartial({ text: 'from python' })).finish()),
      {
        contentType: 'application/x-protobuf',
        headers: { 'warren-deadline': String(Date.now() + 5000), 'tenant-id': 't' },
      },
    );
    expect(reply.properties.headers?.['warren-status']).toBe(0);
    expect(reply.properties.headers?.['warren-protocol']).toBe(2);
    expect(reply.properties.userId).toBe('guest');
    expect(reply.properties.contentType).toBe('application/x-protobuf');
    const response = EchoResponse.decode(reply.content);
    expect(response.text).toBe('from python');
    expect(response.metadata).toEqual({ 'tenant-id': 't' });
  });

  it('serves a raw JSON request in proto3 JSON and answers in JSON', async () => {
    const reply = await rawCall(
      'json-1',
      Buffer.from(JSON.stringify({ text: 'json peer', number: '7', sentAt: '2026-01-01T00:00:00Z' })),
      { contentType: 'application/json' },
    );
    expect(reply.properties.headers?.['warren-status']).toBe(0);
    expect(JSON.parse(reply.content.toString())).toMatchObject({
      text: 'json peer',
      number: '7',
      sentAt: '2026-01-01T00:00:00Z',
    }); // int64 as a string (proto3 JSON)
  });

  it('answers garbage bytes, bad JSON and unknown content types with INVALID_ARGUMENT', async () => {
    const garbage = await rawCall(
      'bad-1',
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      { contentType: 'application/x-protobuf' },
    );
    expect(garbage.properties.headers?.['warren-status']).toBe(Code.INVALID_ARGUMENT);
    expect(decodeStatus(garbage.content).code).toBe(Code.INVALID_ARGUMENT);
    const json = await rawCall('bad-2', Buffer.from('{"text":'), { contentType: 'application/json' });
    expect(json.properties.headers?.['warren-status']).toBe(Code.INVALID_ARGUMENT);
    expect(JSON.parse(json.content.toString()).message).toContain('is not valid JSON');
    const xml = await rawCall('bad-3', Buffer.from('<echo/>'), { contentType: 'text/xml' });
    expect(xml.properties.headers?.['warren-status']).toBe(Code.INVALID_ARGUMENT);
    expect(String(xml.properties.headers?.['warren-message'])).toContain('unsupported content type "text/xml"');
  });

  it('refuses JSON values the message cannot hold, naming the field, without running the handler', async () => {
    const before = ledger.started.length;
    for (const [id, body, field] of [
      ['strict-1', { text: 'x', number: {} }, 'number'],
      ['strict-2', { text: 5 }, 'text'],
      ['strict-3', { tags: 'not-a-list' }, 'tags'],
      ['strict-4', { sentAt: 'yesterday' }, 'sentAt'],
    ] as const) {
      const reply = await rawCall(id, Buffer.from(JSON.stringify(body)), { contentType: 'application/json' });
      expect(reply.properties.headers?.['warren-status']).toBe(Code.INVALID_ARGUMENT);
      expect(JSON.parse(reply.content.toString()).message).toContain(`${field}: `);
    }
    expect(ledger.started.length).toBe(before);
    // unknown fields are ignored, as in the binary format (a newer caller, an older server)
    const newer = await rawCall('strict-5', Buffer.from(JSON.stringify({ text: 'newer', fieldAddedLater: true })), {
      contentType: 'application/json',
    });
    expect(newer.properties.headers?.['warren-status']).toBe(Code.OK);
    expect(JSON.parse(newer.content.toString())).toMatchObject({ text: 'newer' });
  });

  it('answers a request without a method name with UNIMPLEMENTED', async () => {
    const reply = await rawCall('untyped', Buffer.alloc(0), { type: undefined });
    expect(reply.properties.headers?.['warren-status']).toBe(Code.UNIMPLEMENTED);
  });

  it('acks and drops requests without reply_to, with a reply_to that is not a reply address or a direct reply-to token, never running them', async () => {
    const victim = 'victim.queue';
    await channel.assertQueue(victim, { durable: false });
    const before = ledger.started.length;
    channel.publish('', 'rpc.warren.test.v1.TestService', Buffer.alloc(0), {
      type: 'warren.test.v1.TestService/Echo',
      headers: { 'warren-deadline': Date.now() + 5000 },
    });
    channel.publish('', 'rpc.warren.test.v1.TestService', Buffer.alloc(0), {
      type: 'warren.test.v1.TestService/Echo',
      replyTo: victim,
      correlationId: 'inject',
      headers: { 'warren-deadline': Date.now() + 5000 },
    });
    channel.publish('', 'rpc.warren.test.v1.TestService', Buffer.alloc(0), {
      type: 'warren.test.v1.TestService/Echo',
      replyTo: 'amq.rabbitmq.reply-to.g1hkABCDEF.forged',
      correlationId: 'token',
      headers: { 'warren-deadline': Date.now() + 5000 },
    });
    // a normal call afterwards proves the server survived and the two were consumed first
    const client = createClient(TestServiceDefinition, transport);
    await client.echo({ text: 'still alive' });
    const queues = await listQueues(vhost.name);
    expect(queues.find((q) => q.name === victim)?.messages).toBe(0);
    expect(queues.find((q) => q.name === 'rpc.warren.test.v1.TestService')?.messages).toBe(0);
    expect(ledger.started.length).toBe(before + 1);
  });

  it('drops a request whose warren-deadline has passed without running it', async () => {
    const before = ledger.started.length;
    const late = rawCall('late', Buffer.alloc(0), { headers: { 'warren-deadline': Date.now() - 1 } });
    const outcome = await Promise.race([
      late.then(() => 'replied'),
      new Promise((resolve) => setTimeout(() => resolve('silent'), 300)),
    ]);
    expect(outcome).toBe('silent');
    expect(ledger.started.length).toBe(before);
  });

  it('publishes requests with every documented property, through the default exchange to the service queue', async () => {
    // the raw peer is the server of SpyService: it declares the service queue and consumes it
    await channel.assertQueue('rpc.warren.test.v1.SpyService', { exclusive: true });
    const seen = new Promise<ConsumeMessage>(
      (resolve) => void channel.consume('rpc.warren.test.v1.SpyService', (m) => m && resolve(m), { noAck: true }),
    );
    const spy = createClient({ ...TestServiceDefinition, fullName: 'warren.test.v1.SpyService' }, transport);
    const started = Date.now();
    const call = spy
      .echo(
        { text: 'spy' },
        { timeoutMs: 800, metadata: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
      )
      .catch((e: unknown) => e);
    const message = await seen;
    const p = message.properties;
    expect(p.type).toBe('warren.test.v1.SpyService/Echo');
    expect(p.replyTo).toMatch(/^warren\.reply\.[0-9a-f]{32}$/);
    expect(message.fields.exchange).toBe('');
    expect(message.fields.routingKey).toBe('rpc.warren.test.v1.SpyService');
    expect(p.headers?.['warren-protocol']).toBe(2);
    expect(p.contentType).toBe('application/x-protobuf');
    expect(Number(p.expiration)).toBeGreaterThan(600);
    expect(Number(p.expiration)).toBeLessThanOrEqual(800);
    expect(Number(p.headers?.['warren-deadline'])).toBeGreaterThanOrEqual(started + 800);
    expect(p.headers?.['traceparent']).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(p.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.correlationId).toBeTruthy();
    expect(p.userId).toBe('guest');
    expect(Math.abs(Number(p.timestamp) - Math.floor(started / 1000))).toBeLessThanOrEqual(1);
    expect(EchoRequest.decode(message.content).text).toBe('spy');
    expect(((await call) as { code: Code }).code).toBe(Code.DEADLINE_EXCEEDED);
  });
});
