import { randomBytes } from 'node:crypto';
import type { Options } from 'amqplib';
import { replyQueueName } from '../../protocol/rpc-names.js';

/**
 * The reply queue: every client connection takes its replies from an exclusive, auto-delete queue
 * `warren.reply.<128 random bits>` of its own (protocol 2; PROTOCOL.md "Versions").
 *
 * Why not direct reply-to: RabbitMQ 3.10 closes a server's whole connection when it publishes to a direct reply-to
 * address that is forged, or whose caller's node died (`rabbit_direct_reply_to:decode_reply_to_v2` returns a bare
 * `error` that `rabbit_channel:deliver_reply` does not match: 541 INTERNAL_ERROR). One message could so take a
 * service's connection down, and on a cluster every node loss did. A reply to a queue that no longer exists is
 * returned (mandatory) and dropped: a server never trips over a caller that went away.
 *
 * Cost: one exclusive classic queue per client connection, declared on the node it is connected to.
 */
export const REPLY_QUEUE_OPTIONS: Options.AssertQueue = {
  exclusive: true,
  autoDelete: true,
  durable: false,
  arguments: { 'x-queue-type': 'classic' },
};

/** `warren.reply.<128 random bits>`: unguessable, so no one else can aim at it. */
export function newReplyQueueName(): string {
  return replyQueueName(randomBytes(16));
}
