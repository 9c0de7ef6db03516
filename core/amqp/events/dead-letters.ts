import type { Channel } from 'amqplib';
import { Code } from '../../protocol/code.js';
import { RpcError } from '../../protocol/rpc-error.js';
import { deadLetterOrigin, readDeadLetter, replayHeaders, republishProperties } from './event-properties.js';
import type { ConfirmPublisher } from './confirm-publisher.js';
import type { DeadLetter, ReplayResult } from '../../event-transport.js';
import { groupDeadLetterQueue, groupQueue } from '../../protocol/event-names.js';
import { messageIdentity, relayIdentity } from '../identity.js';

/**
 * Reads up to `limit` dead letters of a group without removing them: they are
 * fetched unacknowledged and go back in place when `channel` closes (the
 * caller closes it). NOT_FOUND when the group has no dead-letter queue.
 */
export async function listDeadLetters(channel: Channel, group: string, limit: number): Promise<DeadLetter[]> {
  const queue = groupDeadLetterQueue(group);
  const count = await messageCount(channel, group);
  const letters: DeadLetter[] = [];
  while (letters.length < Math.min(count, limit)) {
    const message = await channel.get(queue, { noAck: false });
    if (message === false) break;
    letters.push(readDeadLetter(message, groupQueue(group)));
  }
  return letters;
}

/**
 * Moves up to `limit` dead letters (those in the queue when it starts) back to
 * the queue each came from, with a fresh attempt count, one at a time: the
 * copy is confirmed before the dead letter is acked, so a failure midway
 * loses nothing. A dead letter whose queue no longer exists goes back to the
 * end of the dead-letter queue and counts as kept. `ownUser` (the replaying
 * connection's broker user) is stamped on the copies, which keep their
 * publisher's identity only when that is the group's own user
 * (core/amqp/identity.ts): replay with the group's credentials.
 */
export async function replayDeadLetters(
  publisher: ConfirmPublisher,
  group: string,
  limit: number,
  ownUser?: string,
): Promise<ReplayResult> {
  const { channel } = publisher;
  const queue = groupDeadLetterQueue(group);
  const todo = Math.min(await messageCount(channel, group), limit);
  let replayed = 0;
  let kept = 0;
  for (let i = 0; i < todo; i++) {
    const message = await channel.get(queue, { noAck: false });
    if (message === false) break;
    const target = deadLetterOrigin(message) ?? groupQueue(group);
    const publisherId = messageIdentity(message.properties, ownUser);
    try {
      await publisher.publish(
        '',
        target,
        message.content,
        relayIdentity(republishProperties(message, replayHeaders(), true), publisherId, ownUser),
        `the replay to ${target}`,
      );
      replayed++;
    } catch (error) {
      if (!(error instanceof RpcError) || error.code !== Code.FAILED_PRECONDITION) throw error;
      await publisher.publish(
        '',
        queue,
        message.content,
        relayIdentity(republishProperties(message, {}, true), publisherId, ownUser),
        `a dead letter back to ${queue}`,
      );
      kept++;
    }
    channel.ack(message);
  }
  return { replayed, kept };
}

async function messageCount(channel: Channel, group: string): Promise<number> {
  const queue = groupDeadLetterQueue(group);
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 404)
      throw RpcError.from(error, Code.UNAVAILABLE, `could not check ${queue}`);
    throw new RpcError(
      Code.NOT_FOUND,
      `no dead-letter queue ${queue}: no subscriber of group ${group} has declared it`,
      { cause: error },
    );
  }
}
