import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Channel, type ConfirmChannel, type Options } from 'amqplib';
import type { BenchCall } from '../rpc/load-loop.js';
import { decodeReply, ECHO_TEXT, encodeRequest, rawEchoReply, type EchoMessage } from '../peers/message.js';
import type { Obligations } from './obligations.js';

const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
const DEADLINE_HEADER = 'warren-deadline';
const STATUS_HEADER = 'warren-status';
const TIMEOUT_MS = 10_000;
const METHOD = 'warren.test.v1.TestService/Echo';
const PROTOBUF = 'application/x-protobuf';

/** Queue and exchange of one variant (one vhost holds them all). */
function names(variant: string): { queue: string; exchange: string } {
  return { queue: `bench.wire.${variant}`, exchange: `bench.wire.${variant}.rpc` };
}

/** The broker user of a URL (what `user_id` must say). */
function userOf(url: string): string {
  return decodeURIComponent(new URL(url).username) || 'guest';
}

/**
 * Raw amqplib server for one variant: prefetch 256, manual ack after the
 * reply, the same protobuf echo as every bench; it reads the deadline and
 * writes the status the way the variant says (header table or field).
 */
export async function startWireServer(
  url: string,
  variant: string,
  o: Obligations,
): Promise<{ close(): Promise<void> }> {
  const model = await connect(url, {
    noDelay: true,
    clientProperties: { connection_name: `bench-wire-${variant}-server-${process.pid}` },
  });
  const channel = await model.createChannel();
  const { queue, exchange } = names(variant);
  await channel.prefetch(256);
  await channel.assertQueue(queue, { durable: true });
  if (o.exchange) {
    await channel.assertExchange(exchange, 'direct', { durable: true });
    await channel.bindQueue(queue, exchange, queue);
  }
  const user = userOf(url);
  let deadlines = 0;
  await channel.consume(
    queue,
    (message) => {
      if (message === null) return;
      const p = message.properties;
      // read the deadline as a server must (it decides whether to run at all)
      if (o.deadlineHeader)
        deadlines += Number((p.headers as Record<string, unknown> | undefined)?.[DEADLINE_HEADER] ?? 0) > 0 ? 1 : 0;
      if (o.fieldsNotHeaders) deadlines += Number(p.timestamp ?? 0) > 0 ? 1 : 0;
      const reply: Options.Publish = { correlationId: p.correlationId as string };
      if (o.replyHeaders) reply.headers = { [STATUS_HEADER]: 0 };
      if (o.fieldsNotHeaders) reply.type = '0';
      if (o.basicProperties) reply.contentType = PROTOBUF;
      if (o.userId) reply.userId = user;
      channel.publish('', p.replyTo as string, rawEchoReply(message.content), reply);
      channel.ack(message);
    },
    { noAck: false },
  );
  return {
    async close() {
      void deadlines;
      await model.close();
    },
  };
}

/** Raw amqplib client for one variant: one connection, one channel (a confirm channel if asked), replies matched in a Map. */
export async function startWireClient(
  url: string,
  variant: string,
  o: Obligations,
): Promise<{ call: BenchCall; close(): Promise<void> }> {
  const model = await connect(url, {
    noDelay: true,
    clientProperties: { connection_name: `bench-wire-${variant}-client-${process.pid}` },
  });
  const channel: Channel | ConfirmChannel = o.confirm
    ? await model.createConfirmChannel()
    : await model.createChannel();
  const { queue, exchange } = names(variant);
  const pending = new Map<string, { resolve: (message: EchoMessage) => void; reject: (error: Error) => void }>();
  let replyTo = DIRECT_REPLY_TO;
  if (o.replyQueue) {
    replyTo = `warren.reply.${randomBytes(8).toString('hex')}`;
    await channel.assertQueue(replyTo, { exclusive: true, autoDelete: true, durable: false });
  }
  if (o.exchange) await channel.assertExchange(exchange, 'direct', { durable: true });
  channel.on('return', (message: { properties: { correlationId?: string } }) => {
    const id = message.properties.correlationId;
    const waiter = id === undefined ? undefined : pending.get(id);
    if (waiter === undefined) return;
    pending.delete(id!);
    waiter.reject(new Error('unroutable'));
  });
  await channel.consume(
    replyTo,
    (message) => {
      if (message === null) return;
      const p = message.properties;
      const waiter = pending.get(p.correlationId as string);
      if (waiter === undefined) return;
      pending.delete(p.correlationId as string);
      // read the status as a client must
      const status = o.replyHeaders
        ? Number((p.headers as Record<string, unknown> | undefined)?.[STATUS_HEADER])
        : o.fieldsNotHeaders
          ? Number(p.type)
          : 0;
      if (status !== 0) waiter.reject(new Error(`status ${status}`));
      else waiter.resolve(decodeReply(message.content));
    },
    { noAck: true },
  );

  const user = userOf(url);
  const request: EchoMessage = { text: ECHO_TEXT };
  let counter = 0;
  const onConfirm = (error: unknown): void => {
    if (error) process.stderr.write(`request nacked: ${String(error)}\n`);
  };
  const call: BenchCall = () =>
    new Promise<EchoMessage>((resolve, reject) => {
      const id = String(counter++);
      pending.set(id, { resolve, reject });
      const now = Date.now();
      const properties: Options.Publish = { replyTo, correlationId: id };
      if (o.mandatory) properties.mandatory = true;
      if (o.deadlineHeader) properties.headers = { [DEADLINE_HEADER]: now + TIMEOUT_MS };
      if (o.expiration) properties.expiration = String(TIMEOUT_MS);
      if (o.uuidMessageId) properties.messageId = randomUUID();
      if (o.userId) properties.userId = user;
      if (o.basicProperties) {
        properties.contentType = PROTOBUF;
        properties.type = METHOD;
        properties.timestamp = Math.floor(now / 1000);
      }
      if (o.fieldsNotHeaders) properties.timestamp = now + TIMEOUT_MS;
      const body = encodeRequest(request);
      if (o.confirm)
        (channel as ConfirmChannel).publish(o.exchange ? exchange : '', queue, body, properties, onConfirm);
      else channel.publish(o.exchange ? exchange : '', queue, body, properties);
    });
  return { call, close: () => model.close() };
}
