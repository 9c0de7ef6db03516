import type { Channel, ConsumeMessage } from 'amqplib';
import { Code } from '../../protocol/code.js';
import type { Logger } from '../../observability/logger.js';
import { errorToReply } from '../../protocol/reply-error.js';
import { RpcError } from '../../protocol/rpc-error.js';
import type { WireReply } from '../../transport.js';
import { replyProperties } from '../wire-properties.js';

/**
 * Publishes a server's reply to the caller's `reply_to`, and guarantees the
 * caller an answer whenever one can be written at all.
 *
 * Why: amqplib encodes a message's properties synchronously and throws
 * (RangeError, "exceeds the 65536 byte encoding buffer"; a header value of a
 * type AMQP cannot carry) before anything reaches the socket. Left to the
 * caller of `publish`, that exception used to skip the acknowledgement: the
 * request held a prefetch slot forever, and enough of them stopped the
 * service. Here a reply that cannot be encoded is replaced by a bare
 * INTERNAL reply (no metadata, bounded message) saying so; only when even
 * that cannot be written does this return false, and the caller nacks the
 * delivery. The channel is not harmed by either failure: nothing was sent.
 */
export function sendReply(
  channel: Channel,
  replyTo: string,
  reply: WireReply,
  request: ConsumeMessage,
  ownUser: string | undefined,
  logger: Logger,
): boolean {
  const correlationId = request.properties.correlationId as string | undefined;
  try {
    channel.publish(
      '',
      replyTo,
      Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength),
      replyProperties(reply, correlationId, ownUser),
    );
    return true;
  } catch (error) {
    logger.error(
      { err: error, type: request.properties.type, status: reply.status },
      'reply could not be encoded; INTERNAL sent instead',
    );
  }
  try {
    const fallback = errorToReply(
      new RpcError(
        Code.INTERNAL,
        'the server could not encode its reply (metadata or message too large or of a type AMQP cannot carry)',
      ),
      reply.contentType,
    );
    channel.publish('', replyTo, Buffer.from(fallback.body), replyProperties(fallback, correlationId, ownUser));
    return true;
  } catch (error) {
    logger.error({ err: error, type: request.properties.type }, 'no reply could be written; request rejected');
    return false;
  }
}
