import type { Channel, ConsumeMessage, Options } from 'amqplib';
import { Abandoned } from '../../rpc/dispatcher.js';
import type { Logger } from '../../observability/logger.js';
import type { Consumer, Delivery, DeliveryHandler } from '../../transport.js';
import { Code } from '../../protocol/code.js';
import { PROTOBUF } from '../../protocol/content-type.js';
import { errorToReply } from '../../protocol/reply-error.js';
import { RpcError } from '../../protocol/rpc-error.js';
import {
  serviceDeadLetterQueue,
  isReplyAddress,
  serviceQueue,
  serviceQueueArguments,
  type ServiceQueueOptions,
} from '../../protocol/rpc-names.js';
import { AckBatcher, batchWrites } from '../write-batching.js';
import { messageIdentity, relayIdentity } from '../identity.js';
import { deliveriesOf, readDelivery, replyProperties } from '../wire-properties.js';
import {
  CALLER_HEADER,
  DEAD_AT_HEADER,
  DEAD_REASON_HEADER,
  DEADLINE_HEADER,
  DELIVERIES_HEADER,
} from '../../protocol/headers.js';
import { durableQueueArguments } from '../queue-type.js';
import { sendReply } from './reply-sender.js';

/** Default most deliveries of one request before it is dead-lettered as poison. */
export const DEFAULT_MAX_DELIVERIES = 5;

/** Options of one service queue consumer. */
export interface ServiceConsumerOptions extends ServiceQueueOptions {
  readonly prefetch: number;
  /** Deliveries after which a request is poison. Default {@link DEFAULT_MAX_DELIVERIES}. */
  readonly maxDeliveries?: number;
  /**
   * The server's own broker user (the `user_id` its connection stamps), so the
   * copies it re-publishes keep their caller's identity (core/amqp/identity.ts).
   * Default none: copies then carry no identity.
   */
  readonly userId?: string | undefined;
  /**
   * Called once when the broker cancels this consumer (its queue was deleted,
   * or a quorum queue lost its leader): the owner declares the queue again and
   * consumes on a new channel. Default: only logged.
   */
  readonly onCancelled?: (() => void) | undefined;
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
  let inFlight = 0;
  let drained: (() => void)[] = [];
  const settled = (): void => {
    if (--inFlight > 0 || drained.length === 0) return;
    const waiting = drained;
    drained = [];
    for (const resolve of waiting) resolve();
  };
  let open = true;
  channel.on('error', (error: Error) => logger.warn({ err: error, queue }, 'service channel error'));
  channel.on('close', () => {
    open = false;
  });
  // a reply (mandatory) whose caller's reply queue is gone: the caller left; nothing to do but count it
  channel.on('return', () => {
    returnedReplies++;
    logger.debug({ queue, returnedReplies }, 'reply returned: its caller is gone');
  });
  let returnedReplies = 0;
  await channel.prefetch(options.prefetch);
  try {
    await channel.assertQueue(queue, { durable: true, arguments: serviceQueueArguments(options) });
  } catch (error) {
    throw new Error(
      `cannot declare ${queue}: ${(error as Error).message} (another instance declared it with other arguments?)`,
      { cause: error },
    );
  }
  const deadQueue = serviceDeadLetterQueue(service);
  await channel.assertQueue(deadQueue, {
    durable: true,
    arguments: durableQueueArguments(options.queueType ?? 'classic'),
  });
  const maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  const quorum = options.queueType === 'quorum';
  const ownUser = options.userId;

  /** Handles requests that keep crashing instances; true when it took care of `message`. */
  const screenPoison = (message: ConsumeMessage, replyTo: string, deliveries: number): boolean => {
    const properties = message.properties;
    const caller = messageIdentity(properties, ownUser);
    if (deliveries > maxDeliveries) {
      const reason = `delivered ${deliveries} times; every instance that took it stopped before answering`;
      logger.error(
        { queue, type: properties.type, messageId: properties.messageId, deliveries },
        'poison request dead-lettered',
      );
      channel.sendToQueue(
        deadQueue,
        message.content,
        relayIdentity(
          copyProperties(message, {
            persistent: true,
            headers: {
              ...properties.headers,
              ...callerHeader(caller),
              [DEAD_REASON_HEADER]: reason,
              [DELIVERIES_HEADER]: deliveries,
              [DEAD_AT_HEADER]: Date.now(),
            },
          }),
          caller,
          ownUser,
        ),
      );
      const contentType = properties.contentType === 'application/json' ? 'application/json' : PROTOBUF;
      const reply = errorToReply(
        new RpcError(Code.INTERNAL, `request ${String(properties.type)} was taken out of service: ${reason}`),
        contentType,
      );
      // acked before the reply: a reply_to that makes the broker drop the connection (RabbitMQ 3.10
      // does for a forged direct reply-to token) must not bring the request back forever
      channel.ack(message);
      channel.publish(
        '',
        replyTo,
        Buffer.from(reply.body),
        replyProperties(reply, properties.correlationId as string | undefined, ownUser),
      );
      return true;
    }
    if (!quorum && message.fields.redelivered) {
      // classic queues do not count deliveries: re-queue a copy that carries the count, then ack the original
      const sentDeadline = Number(properties.headers?.[DEADLINE_HEADER]);
      const expiration = String(
        Math.max(1, Number.isFinite(sentDeadline) ? Math.ceil(sentDeadline - Date.now()) : 10_000),
      );
      channel.publish(
        '',
        queue,
        message.content,
        relayIdentity(
          copyProperties(message, {
            expiration,
            headers: { ...properties.headers, ...callerHeader(caller), [DELIVERIES_HEADER]: deliveries },
          }),
          caller,
          ownUser,
        ),
      );
      channel.ack(message);
      return true;
    }
    return false;
  };
  const wrote = batchWrites(channel);
  const acks = new AckBatcher(
    channel,
    () => open,
    (error) => logger.warn({ err: error, queue }, 'could not acknowledge; the broker will redeliver the request'),
  );

  const onMessage = (message: ConsumeMessage | null): void => {
    if (message === null) {
      logger.warn({ queue }, 'the broker cancelled the consumer (queue deleted?); declaring the queue again');
      options.onCancelled?.();
      return;
    }
    const replyTo = message.properties.replyTo as string | undefined;
    if (!replyTo || !isReplyAddress(replyTo)) {
      logger.warn(
        { queue, replyTo, type: message.properties.type },
        replyTo
          ? 'request names a reply_to that is not a reply address; dropped without running'
          : 'request without reply_to; dropped without running',
      );
      channel.ack(message);
      return;
    }
    const deliveries = deliveriesOf(message, ownUser);
    if ((message.fields.redelivered || deliveries > 1) && screenPoison(message, replyTo, deliveries)) return;
    acks.track(message);
    inFlight++;
    // One reaction per request (no catch/finally chain): replying and acking
    // cannot throw past it, and the in-flight count drops exactly once.
    handler(
      withIdentity(readDelivery(service, message, deliveries), messageIdentity(message.properties, ownUser)),
    ).then(
      (reply) => {
        try {
          if (!open) return;
          // every delivery ends here: acked once its reply is out (or it needs none), nacked when none can be written
          if (reply === null || sendReply(channel, replyTo, reply, message, ownUser, logger)) acks.ack(message);
          else acks.nack(message);
          wrote();
        } finally {
          settled();
        }
      },
      (error: unknown) => {
        try {
          if (error instanceof Abandoned) return; // left unacked: redelivered when the channel closes
          logger.error({ err: error, queue }, 'dispatcher failed; request acknowledged without a reply');
          if (open) acks.ack(message);
        } catch (ackError) {
          logger.warn(
            { err: ackError, queue },
            'could not reply or acknowledge; the broker will redeliver the request',
          );
        } finally {
          settled();
        }
      },
    );
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
      if (inFlight > 0) await new Promise<void>((resolve) => drained.push(resolve));
      acks.flush();
      if (open) {
        open = false;
        await channel.close().catch(() => undefined);
      }
    },
  };
}

/**
 * The caller's identity (see `messageIdentity`: on a copy this server re-queued, the original caller's) as a
 * {@link CALLER_HEADER} for a copy; empty when the request proved none, so a header the caller set itself never
 * passes for one.
 */
function callerHeader(caller: string | undefined): Record<string, string> {
  return { [CALLER_HEADER]: caller ?? '' };
}

/** The delivery with `userId` = the identity the message proves (a re-queued copy's is its caller's). */
function withIdentity(delivery: Delivery, userId: string | undefined): Delivery {
  return delivery.userId === userId ? delivery : { ...delivery, userId };
}

/**
 * A received message's properties as publish options (absent ones left out), with overrides.
 * `user_id` is not copied: the broker only accepts the publishing connection's own user.
 */
function copyProperties(message: ConsumeMessage, overrides: Options.Publish): Options.Publish {
  const p = message.properties;
  const copy: Record<string, unknown> = {
    contentType: p.contentType,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    messageId: p.messageId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
  };
  for (const key of Object.keys(copy)) if (copy[key] === undefined) delete copy[key];
  return { ...(copy as Options.Publish), ...overrides };
}
