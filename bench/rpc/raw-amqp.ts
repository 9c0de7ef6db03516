import { connect, type ChannelModel } from 'amqplib';
import { EchoRequest, EchoResponse } from '../../gen/warren/test/v1/test.js';
import type { BenchCall } from './load-loop.js';
import { benchRequest, RAW_QUEUE, rawEcho } from './payload.js';

/**
 * The baseline: textbook amqplib RPC, nothing Warren-specific.
 *
 * ```text
 *  client channel                        broker                         server channel
 *  sendToQueue("bench.raw.echo") ──▶ default exchange ──▶ queue "bench.raw.echo" (durable)
 *   replyTo = amq.rabbitmq.reply-to                         ──consume(prefetch 256, ack)──▶ server
 *  consume "amq.rabbitmq.reply-to" (noAck) ◀── default exchange ◀── publish(replyTo), then ack
 * ```
 */
export async function connectRaw(url: string, name: string): Promise<ChannelModel> {
  return connect(url, { noDelay: true, clientProperties: { connection_name: name } });
}

/** Raw server: decode, answer, publish to reply_to with the correlation id, then ack. */
export async function startRawServer(url: string, instance: string): Promise<ChannelModel> {
  const model = await connectRaw(url, instance);
  const channel = await model.createChannel();
  await channel.prefetch(256);
  await channel.assertQueue(RAW_QUEUE, { durable: true });
  await channel.consume(
    RAW_QUEUE,
    (message) => {
      if (message === null) return;
      const reply = rawEcho(message.content, instance);
      channel.publish('', message.properties.replyTo as string, reply, {
        correlationId: message.properties.correlationId as string,
      });
      channel.ack(message);
    },
    { noAck: false },
  );
  return model;
}

/** Raw client: direct reply-to consumer, requests sent to the queue, replies matched in a Map. */
export async function startRawClient(url: string, name: string): Promise<{ call: BenchCall; model: ChannelModel }> {
  const model = await connectRaw(url, name);
  const channel = await model.createChannel();
  const pending = new Map<string, (body: Buffer) => void>();
  await channel.consume(
    'amq.rabbitmq.reply-to',
    (message) => {
      if (message === null) return;
      const id = message.properties.correlationId as string;
      const resolve = pending.get(id);
      if (resolve) {
        pending.delete(id);
        resolve(message.content);
      }
    },
    { noAck: true },
  );
  const request = benchRequest();
  let counter = 0;
  const call: BenchCall = () =>
    new Promise((resolve) => {
      const id = String(counter++);
      pending.set(id, (body) => resolve(EchoResponse.decode(body)));
      const bytes = EchoRequest.encode(request).finish();
      channel.sendToQueue(RAW_QUEUE, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
        replyTo: 'amq.rabbitmq.reply-to',
        correlationId: id,
      });
    });
  return { call, model };
}
