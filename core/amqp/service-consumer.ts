import type { Channel, ConsumeMessage } from 'amqplib';
import { Abandoned } from '../dispatcher.js';
import type { Logger } from '../logger.js';
import type { Consumer, DeliveryHandler } from '../transport.js';
import { isReplyAddress, RPC_EXCHANGE, serviceQueue, serviceQueueArguments, type ServiceQueueOptions } from './topology.js';
import { readDelivery, replyProperties } from './wire-properties.js';

/** Options of one service queue consumer. */
export interface ServiceConsumerOptions extends ServiceQueueOptions {
  readonly prefetch: number;
}

/**
 * The server half for one service: its own channel (so prefetch is per
 * service), the queue declared and bound, requests handed to the dispatcher
 * and acknowledged only after the reply is published on the same channel.
 */
export async function consumeService(
  channel: Channel,
  service: string,
  options: ServiceConsumerOptions,
  handler: DeliveryHandler,
  logger: Logger,
): Promise<Consumer> {
  const queue = serviceQueue(service);
  const inFlight = new Set<Promise<void>>();
  let open = true;
  channel.on('error', (error: Error) => logger.warn({ err: error, queue }, 'service channel error'));
  channel.on('close', () => {
    open = false;
  });
  await channel.prefetch(options.prefetch);
  await channel.assertExchange(RPC_EXCHANGE, 'direct', { durable: true });
  try {
    await channel.assertQueue(queue, { durable: true, arguments: serviceQueueArguments(options) });
  } catch (error) {
    throw new Error(`cannot declare ${queue}: ${(error as Error).message} (another instance declared it with other arguments?)`, { cause: error });
  }
  await channel.bindQueue(queue, RPC_EXCHANGE, service);

  const onMessage = (message: ConsumeMessage | null): void => {
    if (message === null) {
      logger.warn({ queue }, 'the broker cancelled the consumer (queue deleted?)');
      return;
    }
    const replyTo = message.properties.replyTo as string | undefined;
    if (!replyTo || !isReplyAddress(replyTo)) {
      logger.warn({ queue, replyTo, type: message.properties.type }, replyTo ? 'request names a reply_to that is not a reply address; dropped without running' : 'request without reply_to; dropped without running');
      channel.ack(message);
      return;
    }
    const done = handler(readDelivery(service, message)).then(
      (reply) => {
        if (!open) return;
        if (reply) channel.publish('', replyTo, Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength), replyProperties(reply, message.properties.correlationId as string | undefined));
        channel.ack(message);
      },
      (error: unknown) => {
        if (error instanceof Abandoned) return; // left unacked: redelivered when the channel closes
        logger.error({ err: error, queue }, 'dispatcher failed; request acknowledged without a reply');
        if (open) channel.ack(message);
      },
    ).catch((error: unknown) => logger.warn({ err: error, queue }, 'could not reply or acknowledge; the broker will redeliver the request'))
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  const { consumerTag } = await channel.consume(queue, onMessage, { noAck: false });

  return {
    async close() {
      if (open) {
        try {
          await channel.cancel(consumerTag);
        } catch {
          // channel already gone
        }
      }
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      if (open) {
        open = false;
        await channel.close().catch(() => undefined);
      }
    },
  };
}
