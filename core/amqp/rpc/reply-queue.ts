import { randomBytes } from 'node:crypto';
import type { Options } from 'amqplib';
import { REPLY_QUEUE_PREFIX } from '../../protocol/rpc-names.js';

/**
 * Reply queues: where a client takes its replies on a cluster instead of
 * direct reply-to.
 *
 * Why: RabbitMQ 3.10 encodes the caller's node in a direct reply-to address,
 * and a publish to an address whose node is not running crashes the
 * publishing channel (`rabbit_direct_reply_to:decode_reply_to_v2` returns a
 * bare `error` that `rabbit_channel:deliver_reply` does not match), which
 * closes the publisher's whole connection with 541 INTERNAL_ERROR. On a
 * cluster that happens whenever a node dies: a server answering a request
 * whose caller was on the dead node loses its connection, its unacked
 * requests come back (counting towards the poison limit) and the next answer
 * to that caller does it again. A reply to a queue that no longer exists is
 * simply dropped, so a server never trips over a caller that went away.
 *
 * Cost: one exclusive classic queue per client connection (declared on the
 * node the client is connected to, gone with the connection), and replies go
 * through a queue rather than straight to the channel. Used by default when
 * the mesh runs on a cluster (`WARREN_QUEUE_TYPE=quorum`); `connectAmqp({
 * replyQueue })` overrides it. PROTOCOL.md already allows `warren.reply.<id>`
 * as `reply_to`: nothing changes on the wire for servers.
 */
export const REPLY_QUEUE_OPTIONS: Options.AssertQueue = {
  exclusive: true,
  autoDelete: true,
  durable: false,
  arguments: { 'x-queue-type': 'classic' },
};

/** `warren.reply.<128 random bits>`: unguessable, so no one else can aim at it. */
export function newReplyQueueName(): string {
  return `${REPLY_QUEUE_PREFIX}${randomBytes(16).toString('hex')}`;
}
