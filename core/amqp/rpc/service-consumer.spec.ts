import { EventEmitter } from 'node:events';
import type { Channel, ConsumeMessage, Options } from 'amqplib';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Code } from '../../protocol/code.js';
import { DEAD_REASON_HEADER, DEADLINE_HEADER, DELIVERIES_HEADER, STATUS_HEADER } from '../../protocol/headers.js';
import type { Delivery, WireReply } from '../../transport.js';
import { consumeService } from './service-consumer.js';

const SERVICE = 'test.v1.Echo';
const quiet = pino({ level: 'silent' });

/** What a fake channel saw: publishes, settlements (ack/nack by delivery tag) and requeue flags. */
interface Recorded {
  readonly published: { exchange: string; routingKey: string; content: Buffer; options: Options.Publish }[];
  readonly sentToQueue: { queue: string; options: Options.Publish }[];
  readonly acked: Set<number>;
  readonly nacked: { tag: number; requeue: boolean }[];
}

/**
 * A broker-free stand-in for an amqplib channel: enough of it for the service consumer (prefetch, declares,
 * consume, publish, ack/nack, cancel, close). `failPublish` makes publish throw as amqplib does when it cannot
 * encode a frame (synchronously, before anything is sent).
 */
function fakeChannel(failPublish: (options: Options.Publish) => boolean = () => false) {
  const emitter = new EventEmitter();
  const recorded: Recorded = { published: [], sentToQueue: [], acked: new Set(), nacked: [] };
  let deliver: ((message: ConsumeMessage | null) => void) | undefined;
  let highest = 0;
  const channel = {
    on: (event: string, listener: (...args: unknown[]) => void) => emitter.on(event, listener),
    prefetch: async () => undefined,
    assertQueue: async (queue: string) => ({ queue, messageCount: 0, consumerCount: 0 }),
    consume: async (_queue: string, onMessage: (message: ConsumeMessage | null) => void) => {
      deliver = onMessage;
      return { consumerTag: 'ctag-1' };
    },
    publish: (exchange: string, routingKey: string, content: Buffer, options: Options.Publish) => {
      if (failPublish(options)) throw new RangeError('Frame size exceeds the 65536 byte encoding buffer');
      recorded.published.push({ exchange, routingKey, content, options });
      return true;
    },
    sendToQueue: (queue: string, _content: Buffer, options: Options.Publish) => {
      recorded.sentToQueue.push({ queue, options });
      return true;
    },
    ack: (message: ConsumeMessage, allUpTo?: boolean) => {
      const tag = message.fields.deliveryTag;
      if (allUpTo) for (let t = 1; t <= tag; t++) recorded.acked.add(t);
      else recorded.acked.add(tag);
    },
    nack: (message: ConsumeMessage, _allUpTo?: boolean, requeue?: boolean) =>
      recorded.nacked.push({ tag: message.fields.deliveryTag, requeue: requeue !== false }),
    cancel: async () => undefined,
    close: async () => {
      emitter.emit('close');
    },
  };
  const push = (
    overrides: {
      headers?: Record<string, unknown>;
      replyTo?: string | undefined;
      redelivered?: boolean;
      userId?: string;
    } = {},
  ): number => {
    highest++;
    const message = {
      content: Buffer.from([]),
      fields: {
        deliveryTag: highest,
        redelivered: overrides.redelivered ?? false,
        exchange: '',
        routingKey: `rpc.${SERVICE}`,
        consumerTag: 'ctag-1',
        deliveryCount: undefined,
      },
      properties: {
        type: `${SERVICE}/Say`,
        contentType: 'application/x-protobuf',
        correlationId: `c-${highest}`,
        messageId: `m-${highest}`,
        replyTo: 'replyTo' in overrides ? overrides.replyTo : 'warren.reply.0123456789abcdef',
        userId: overrides.userId,
        headers: { [DEADLINE_HEADER]: Date.now() + 10_000, ...overrides.headers },
      },
    } as unknown as ConsumeMessage;
    deliver!(message);
    return highest;
  };
  return { channel: channel as unknown as Channel, recorded, push };
}

const ok = (metadata: Record<string, string> = {}): WireReply => ({
  status: Code.OK,
  message: '',
  contentType: 'application/x-protobuf',
  body: new Uint8Array(),
  metadata,
});
/** Lets the handler's promise settle and the ack batch flush (it flushes on process.nextTick). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('consumeService (fake channel): every delivery ends', () => {
  it('acks a request once its reply is published, and one whose handler wants no reply', async () => {
    const { channel, recorded, push } = fakeChannel();
    const replies: (WireReply | null)[] = [ok(), null];
    await consumeService(channel, SERVICE, { prefetch: 8 }, async () => replies.shift()!, quiet);
    const answered = push();
    const silent = push();
    await settle();
    expect(recorded.published).toHaveLength(1);
    expect(recorded.published[0]!.routingKey).toBe('warren.reply.0123456789abcdef');
    expect(recorded.published[0]!.options.headers?.[STATUS_HEADER]).toBe(Code.OK);
    expect([...recorded.acked]).toEqual(expect.arrayContaining([answered, silent]));
    expect(recorded.nacked).toEqual([]);
  });

  it('sends INTERNAL instead of a reply that cannot be encoded, and still acks', async () => {
    const { channel, recorded, push } = fakeChannel((options) => options.headers?.['big'] !== undefined);
    await consumeService(channel, SERVICE, { prefetch: 8 }, async () => ok({ big: 'x'.repeat(70_000) }), quiet);
    const tag = push();
    await settle();
    expect(recorded.published).toHaveLength(1);
    expect(recorded.published[0]!.options.headers?.[STATUS_HEADER]).toBe(Code.INTERNAL);
    expect(recorded.acked.has(tag)).toBe(true);
  });

  it('rejects without requeue when no reply at all can be written, so it never holds a prefetch slot', async () => {
    const { channel, recorded, push } = fakeChannel(() => true);
    await consumeService(channel, SERVICE, { prefetch: 8 }, async () => ok(), quiet);
    const tag = push();
    await settle();
    expect(recorded.acked.has(tag)).toBe(false);
    expect(recorded.nacked).toEqual([{ tag, requeue: false }]);
  });

  it('acks without a reply when the dispatcher itself fails', async () => {
    const { channel, recorded, push } = fakeChannel();
    await consumeService(channel, SERVICE, { prefetch: 8 }, async () => Promise.reject(new Error('boom')), quiet);
    const tag = push();
    await settle();
    expect(recorded.published).toEqual([]);
    expect(recorded.acked.has(tag)).toBe(true);
  });

  it('drops a request without a reply address, or with one that is not a reply queue, without running it', async () => {
    const { channel, recorded, push } = fakeChannel();
    let ran = 0;
    await consumeService(channel, SERVICE, { prefetch: 8 }, async () => (ran++, ok()), quiet);
    const none = push({ replyTo: undefined });
    const otherService = push({ replyTo: 'rpc.shop.payments.v1.PaymentService' });
    const directReplyTo = push({ replyTo: 'amq.rabbitmq.reply-to.g1h2AA5yZXQ=' });
    await settle();
    expect(ran).toBe(0);
    expect(recorded.published).toEqual([]);
    expect([...recorded.acked]).toEqual(expect.arrayContaining([none, otherService, directReplyTo]));
  });
});

describe('consumeService (fake channel): poison requests', () => {
  it('dead-letters a request past maxDeliveries (quorum count), answers INTERNAL and acks, without running it', async () => {
    const { channel, recorded, push } = fakeChannel();
    let ran = 0;
    await consumeService(
      channel,
      SERVICE,
      { prefetch: 8, queueType: 'quorum', maxDeliveries: 5 },
      async () => (ran++, ok()),
      quiet,
    );
    const tag = push({ redelivered: true, headers: { 'x-delivery-count': 5 } });
    await settle();
    expect(ran).toBe(0);
    expect(recorded.sentToQueue).toHaveLength(1);
    expect(recorded.sentToQueue[0]!.queue).toBe(`rpc.${SERVICE}.dead`);
    expect(recorded.sentToQueue[0]!.options.headers?.[DEAD_REASON_HEADER]).toMatch(/delivered 6 times/);
    expect(recorded.published[0]!.options.headers?.[STATUS_HEADER]).toBe(Code.INTERNAL);
    expect(recorded.acked.has(tag)).toBe(true);
  });

  it('re-queues a redelivered classic request as a copy carrying its count, acking the original', async () => {
    const { channel, recorded, push } = fakeChannel();
    let ran = 0;
    await consumeService(channel, SERVICE, { prefetch: 8 }, async () => (ran++, ok()), quiet);
    const tag = push({ redelivered: true });
    await settle();
    expect(ran).toBe(0);
    expect(recorded.published).toHaveLength(1);
    expect(recorded.published[0]).toMatchObject({ exchange: '', routingKey: `rpc.${SERVICE}` });
    expect(recorded.published[0]!.options.headers?.[DELIVERIES_HEADER]).toBe(2);
    expect(recorded.acked.has(tag)).toBe(true);
  });

  it('ignores a warren-deliveries count the caller wrote itself: the request runs', async () => {
    const { channel, recorded, push } = fakeChannel();
    const seen: Delivery[] = [];
    await consumeService(
      channel,
      SERVICE,
      { prefetch: 8, userId: 'svc-echo' },
      async (delivery) => (seen.push(delivery), ok()),
      quiet,
    );
    push({ userId: 'someone-else', headers: { [DELIVERIES_HEADER]: 9 } });
    await settle();
    expect(seen).toHaveLength(1);
    expect(recorded.sentToQueue).toEqual([]);
  });
});
