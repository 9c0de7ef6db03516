import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient, createServer, RpcError } from '../core/index.js';
import { MAX_STATUS_MESSAGE_BYTES } from '../core/protocol/index.js';
import { serviceQueue } from '../core/protocol/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { listQueues } from './support/broker.js';
import { call, startGatewayHarness, type GatewayHarness } from './support/gateway-harness.js';
import { testService } from '../core/testing/test-service.js';

const SERVICE = 'warren.test.v1.TestService';
const PREFETCH = 4;
const WEDGE = { ...TestServiceDefinition, fullName: 'warren.test.v1.WedgeService' };

// No request can wedge a service: a reply that cannot be encoded as sent is replaced or rejected, every delivery
// ends, and what a caller sends (deadline header, metadata, JSON nesting) is bounded and refused with a typed error.
describe('no request wedges a service', () => {
  let h: GatewayHarness;
  let transport: AmqpTransport;
  let raw: ChannelModel;
  let channel: Channel;
  let replyQueue: string;
  const waiters = new Map<string, (message: ConsumeMessage) => void>();

  beforeAll(async () => {
    h = await startGatewayHarness('wedge', {});
    transport = await connectAmqp({ url: h.vhost.url });
    await createServer({ transport, instance: 'wedge', prefetch: PREFETCH })
      .add(WEDGE, testService('wedge').implementation)
      .start();
    raw = await connect(h.vhost.url);
    channel = await raw.createChannel();
    replyQueue = `warren.reply.${randomBytes(16).toString('hex')}`;
    await channel.assertQueue(replyQueue, { exclusive: true, autoDelete: true, durable: false });
    await channel.consume(
      replyQueue,
      (message) => message && waiters.get(String(message.properties.correlationId))?.(message),
      { noAck: true },
    );
  }, 60_000);

  afterAll(async () => {
    await raw?.close();
    await transport?.close();
    await h?.close();
  });

  function rawCall(service: string, body: Buffer, properties: Record<string, unknown>): Promise<ConsumeMessage> {
    const correlationId = randomBytes(8).toString('hex');
    const reply = new Promise<ConsumeMessage>((resolve) => waiters.set(correlationId, resolve));
    channel.publish('', serviceQueue(service), body, {
      correlationId,
      replyTo: replyQueue,
      type: `${service}/Echo`,
      contentType: 'application/json',
      ...properties,
    });
    return reply;
  }

  it('answers every oversized echo, keeps serving, and leaves nothing unacked', async () => {
    const client = createClient(WEDGE, transport, { retry: false });
    const huge = 'x'.repeat(70_000);
    // 16 × the prefetch: each one used to hold a prefetch slot forever
    const outcomes = await Promise.all(
      Array.from({ length: PREFETCH * 16 }, () =>
        client.fail({ code: Code.NOT_FOUND, message: `no product "${huge}"` }).then(
          () => undefined,
          (error: unknown) => error as RpcError,
        ),
      ),
    );
    for (const error of outcomes) {
      expect(error?.code).toBe(Code.NOT_FOUND);
      expect(Buffer.byteLength(error!.rawMessage)).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_BYTES);
      expect(error!.rawMessage.endsWith('…')).toBe(true);
    }
    expect((await client.echo({ text: 'still serving' }, { timeoutMs: 3000 })).text).toBe('still serving');
    const queue = (await listQueues(h.vhost.name)).find((q) => q.name === 'rpc.warren.test.v1.WedgeService');
    expect(queue?.messages).toBe(0); // ready + unacknowledged
  });

  it('refuses a non-numeric warren-deadline with INVALID_ARGUMENT instead of assuming one', async () => {
    const reply = await rawCall('warren.test.v1.WedgeService', Buffer.from('{"text":"x"}'), {
      headers: { 'warren-deadline': 'soon' },
    });
    expect(reply.properties.headers?.['warren-status']).toBe(Code.INVALID_ARGUMENT);
    expect(JSON.parse(reply.content.toString()).message).toContain('warren-deadline must be an integer');
  });

  it('refuses request metadata over 8 KiB with INVALID_ARGUMENT', async () => {
    const reply = await rawCall('warren.test.v1.WedgeService', Buffer.from('{"text":"x"}'), {
      headers: { 'warren-deadline': Date.now() + 5000, 'big-one': 'y'.repeat(60_000) },
    });
    expect(reply.properties.headers?.['warren-status']).toBe(Code.INVALID_ARGUMENT);
    expect(JSON.parse(reply.content.toString()).message).toContain('at most 8192');
  });

  it('answers deeply nested JSON inside a field with a depth message, on a server and at the gateway', async () => {
    const nested = `{"text":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const reply = await rawCall('warren.test.v1.WedgeService', Buffer.from(nested), {
      headers: { 'warren-deadline': Date.now() + 5000 },
    });
    expect(reply.properties.headers?.['warren-status']).toBe(Code.INVALID_ARGUMENT);
    const message = JSON.parse(reply.content.toString()).message as string;
    expect(message).toContain('deeper than 64 levels');
    expect(message).not.toContain('call stack');
    const http = await call(h.base, 'POST', `/rpc/${SERVICE}/Echo`, { body: nested });
    expect(http.status).toBe(400);
    expect(http.text).toContain('deeper than 64 levels');
    expect(http.text).not.toContain('call stack');
  });
});
