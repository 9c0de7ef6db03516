import type { Channel, GetMessage } from 'amqplib';
import { metadataFromHeaders, type Metadata } from '../../protocol/metadata.js';
import {
  CALLER_HEADER,
  DEAD_AT_HEADER,
  DEAD_REASON_HEADER,
  DEADLINE_HEADER,
  DELIVERIES_HEADER,
  readHeaderNumber,
  readHeaderText,
} from '../../protocol/headers.js';

/**
 * A poison request as a server parked it in `rpc.<service>.dead`
 * (core/amqp/rpc/service-consumer.ts): the request message unchanged, plus the
 * server's `warren-dead-reason`, `warren-deliveries`, `warren-dead-at` and
 * `warren-caller` headers. Fields a peer did not send are `undefined`.
 */
export interface RpcDeadLetter {
  /** The call's `message_id` (else its `correlation_id`; empty if neither). */
  readonly messageId: string;
  /** `package.Service/Method`, from the AMQP `type` property. */
  readonly method: string;
  readonly reason: string;
  /** Deliveries when it was taken out of service. */
  readonly deliveries: number | undefined;
  /**
   * The original caller's broker user, as the server that dead-lettered it
   * recorded it in `warren-caller` (the copy's own `user_id` is the server's);
   * from servers that did not record it, the `user_id`.
   */
  readonly caller: string | undefined;
  /** When the server dead-lettered it, ms since the epoch (servers before `warren-dead-at` did not say). */
  readonly deadAt: number | undefined;
  /** When the caller sent it, ms since the epoch (AMQP `timestamp`, a whole second). */
  readonly sentAt: number | undefined;
  /** The caller's deadline (`warren-deadline`), long passed by now. */
  readonly deadline: number | undefined;
  /** The raw `content_type` (absent means protobuf). */
  readonly contentType: string | undefined;
  readonly body: Buffer;
  /** The call's metadata (headers other than `warren-*` and `x-*`). */
  readonly metadata: Metadata;
}

/** Reads a fetched dead letter. */
export function readRpcDeadLetter(message: GetMessage): RpcDeadLetter {
  const properties = message.properties;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const timestamp = readHeaderNumber(properties.timestamp);
  return {
    messageId: readHeaderText(properties.messageId) ?? readHeaderText(properties.correlationId) ?? '',
    method: readHeaderText(properties.type) ?? '',
    reason: readHeaderText(headers[DEAD_REASON_HEADER]) ?? '(no reason recorded)',
    deliveries: readHeaderNumber(headers[DELIVERIES_HEADER]),
    caller: CALLER_HEADER in headers ? readHeaderText(headers[CALLER_HEADER]) : readHeaderText(properties.userId),
    deadAt: readHeaderNumber(headers[DEAD_AT_HEADER]),
    sentAt: timestamp === undefined ? undefined : timestamp * 1000,
    deadline: readHeaderNumber(headers[DEADLINE_HEADER]),
    contentType: readHeaderText(properties.contentType),
    body: message.content,
    metadata: metadataFromHeaders(headers),
  };
}

/**
 * Dead letters fetched unacknowledged on a channel of their own: nobody else
 * can fetch them while they are held, and whatever is not removed goes back
 * to its place, in order, on {@link HeldDeadLetters.release}.
 */
export interface HeldDeadLetters {
  readonly letters: readonly RpcDeadLetter[];
  /** Removes one from the queue for good (basic.ack). */
  remove(letter: RpcDeadLetter): void;
  /** Puts back every one not removed (closes the channel). */
  release(): Promise<void>;
}

/** Options of {@link holdRpcDeadLetters}. */
export interface HoldOptions {
  /** Dead letters in the queue now (passive declare); fetching stops there, so later arrivals are not read. */
  readonly count: number;
  /** Most to fetch. */
  readonly limit: number;
  /** Stop early once this says enough was found (e.g. every id asked for). */
  readonly enough?: (letters: readonly RpcDeadLetter[]) => boolean;
}

/** Fetches dead letters oldest first, holding them; `channel` is the caller's and is closed by `release`. */
export async function holdRpcDeadLetters(
  channel: Channel,
  queue: string,
  options: HoldOptions,
): Promise<HeldDeadLetters> {
  const letters: RpcDeadLetter[] = [];
  const messages = new Map<RpcDeadLetter, GetMessage>();
  try {
    while (letters.length < Math.min(options.count, options.limit) && !(options.enough?.(letters) ?? false)) {
      const message = await channel.get(queue, { noAck: false });
      if (message === false) break;
      const letter = readRpcDeadLetter(message);
      letters.push(letter);
      messages.set(letter, message);
    }
  } catch (error) {
    await channel.close().catch(() => undefined);
    throw error;
  }
  return {
    letters,
    remove(letter) {
      const message = messages.get(letter);
      if (!message) return;
      channel.ack(message);
      messages.delete(letter);
    },
    async release() {
      await channel.close().catch(() => undefined);
    },
  };
}
