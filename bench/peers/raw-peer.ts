import { connect } from 'amqplib';
import type { PeerAdapter } from './adapter.js';
import { decodeReply, ECHO_TEXT, encodeRequest, rawEchoReply, type EchoMessage } from './message.js';

const QUEUE = 'bench.peers.raw.echo';
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * The baseline: textbook amqplib RPC. Protobuf bodies, one connection per
 * process with TCP_NODELAY, a plain channel, requests to the queue through
 * the default exchange, direct reply-to, server prefetch 256 with manual ack
 * after the reply. Nothing else on the wire: no headers, no confirms.
 */
export const rawPeer: PeerAdapter = {
  async startServer(url) {
    const model = await connect(url, {
      noDelay: true,
      clientProperties: { connection_name: `bench-raw-server-${process.pid}` },
    });
    const channel = await model.createChannel();
    await channel.prefetch(256);
    await channel.assertQueue(QUEUE, { durable: true });
    await channel.consume(
      QUEUE,
      (message) => {
        if (message === null) return;
        channel.publish('', message.properties.replyTo as string, rawEchoReply(message.content), {
          correlationId: message.properties.correlationId as string,
        });
        channel.ack(message);
      },
      { noAck: false },
    );
    return { close: () => model.close() };
  },
  async startClient(url) {
    const model = await connect(url, {
      noDelay: true,
      clientProperties: { connection_name: `bench-raw-client-${process.pid}` },
    });
    const channel = await model.createChannel();
    const pending = new Map<string, (message: EchoMessage) => void>();
    await channel.consume(
      DIRECT_REPLY_TO,
      (message) => {
        if (message === null) return;
        const id = message.properties.correlationId as string;
        const resolve = pending.get(id);
        if (resolve === undefined) return;
        pending.delete(id);
        resolve(decodeReply(message.content));
      },
      { noAck: true },
    );
    let counter = 0;
    const request: EchoMessage = { text: ECHO_TEXT };
    return {
      call: () =>
        new Promise<EchoMessage>((resolve) => {
          const id = String(counter++);
          pending.set(id, resolve);
          channel.sendToQueue(QUEUE, encodeRequest(request), { replyTo: DIRECT_REPLY_TO, correlationId: id });
        }),
      close: () => model.close(),
    };
  },
};
