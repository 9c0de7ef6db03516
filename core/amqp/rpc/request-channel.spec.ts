import { EventEmitter } from 'node:events';
import type { ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Code } from '../../protocol/code.js';
import { STATUS_HEADER } from '../../protocol/headers.js';
import type { RpcError } from '../../protocol/rpc-error.js';
import type { WireRequest } from '../../protocol/wire-message.js';
import { RequestChannel } from './request-channel.js';

const quiet = pino({ level: 'silent' });

/** A broker-free confirm channel: records publishes; the test answers them (reply, return, nack) by hand. */
function fakeConfirmChannel() {
  const emitter = new EventEmitter();
  const published: {
    exchange: string;
    routingKey: string;
    options: Options.Publish;
    confirm: (error: unknown) => void;
  }[] = [];
  const declared: { queue: string; options: Options.AssertQueue | undefined }[] = [];
  let onReply: ((message: ConsumeMessage | null) => void) | undefined;
  const channel = {
    on: (event: string, listener: (...args: unknown[]) => void) => emitter.on(event, listener),
    assertQueue: async (queue: string, options?: Options.AssertQueue) => (
      declared.push({ queue, options }),
      { queue, messageCount: 0, consumerCount: 0 }
    ),
    consume: async (_queue: string, listener: (message: ConsumeMessage | null) => void) => (
      (onReply = listener),
      { consumerTag: 'replies' }
    ),
    publish: (
      exchange: string,
      routingKey: string,
      _content: Buffer,
      options: Options.Publish,
      confirm: (error: unknown) => void,
    ) => {
      published.push({ exchange, routingKey, options, confirm });
      return true;
    },
    close: async () => undefined,
  };
  const reply = (correlationId: string, status: Code, userId?: string): void =>
    onReply!({
      content: Buffer.from([]),
      fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: '', consumerTag: 'replies' },
      properties: {
        correlationId,
        userId,
        contentType: 'application/x-protobuf',
        headers: { [STATUS_HEADER]: status },
      },
    } as unknown as ConsumeMessage);
  const returned = (correlationId: string): void =>
    void emitter.emit('return', {
      content: Buffer.from([]),
      fields: { replyCode: 312, replyText: 'NO_ROUTE', exchange: '', routingKey: '' },
      properties: { correlationId, headers: {} },
    } as unknown as Message);
  return { channel: channel as unknown as ConfirmChannel, published, declared, reply, returned, emitter };
}

const request = (service = 'test.v1.Echo'): WireRequest => ({
  service,
  method: `${service}/Say`,
  contentType: 'application/x-protobuf',
  body: new Uint8Array(),
  metadata: {},
  deadline: Date.now() + 10_000,
  messageId: 'm-1',
});

describe('RequestChannel (fake channel)', () => {
  it('declares its own exclusive reply queue and publishes requests through the default exchange to the service queue', async () => {
    const fake = fakeConfirmChannel();
    const channel = await RequestChannel.open(fake.channel, 'caller', quiet);
    const pending = channel.request(request(), new AbortController().signal);
    expect(fake.declared[0]!.queue).toMatch(/^warren\.reply\.[0-9a-f]{32}$/);
    expect(fake.declared[0]!.options).toMatchObject({ exclusive: true, autoDelete: true });
    expect(fake.published[0]).toMatchObject({
      exchange: '',
      routingKey: 'rpc.test.v1.Echo',
      options: { replyTo: fake.declared[0]!.queue, mandatory: true, userId: 'caller' },
    });
    fake.reply(fake.published[0]!.options.correlationId!, Code.OK);
    await expect(pending).resolves.toMatchObject({ status: Code.OK });
  });

  it("refuses a reply from a user other than the service's expected server user (UNAUTHENTICATED)", async () => {
    const fake = fakeConfirmChannel();
    const channel = await RequestChannel.open(fake.channel, 'caller', quiet, () => 'svc-echo');
    const pending = channel.request(request(), new AbortController().signal);
    fake.reply(fake.published[0]!.options.correlationId!, Code.OK, 'forger');
    const error = (await pending.catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe(Code.UNAUTHENTICATED);
  });

  it('fails fast with UNAVAILABLE when no queue takes the request (basic.return), and RESOURCE_EXHAUSTED on a nack', async () => {
    const fake = fakeConfirmChannel();
    const channel = await RequestChannel.open(fake.channel, 'caller', quiet);
    const unroutable = channel.request(request('nobody.v1.Home'), new AbortController().signal);
    fake.returned(fake.published[0]!.options.correlationId!);
    expect(((await unroutable.catch((e: unknown) => e)) as RpcError).code).toBe(Code.UNAVAILABLE);
    const refused = channel.request(request(), new AbortController().signal);
    fake.published[1]!.confirm(new Error('nack'));
    expect(((await refused.catch((e: unknown) => e)) as RpcError).code).toBe(Code.RESOURCE_EXHAUSTED);
  });

  it('ignores a reply nobody waits for, and fails calls in flight with UNAVAILABLE when the channel closes', async () => {
    const fake = fakeConfirmChannel();
    const channel = await RequestChannel.open(fake.channel, 'caller', quiet);
    fake.reply('not-ours', Code.OK);
    const pending = channel.request(request(), new AbortController().signal);
    fake.emitter.emit('close');
    expect(((await pending.catch((e: unknown) => e)) as RpcError).code).toBe(Code.UNAVAILABLE);
  });
});
