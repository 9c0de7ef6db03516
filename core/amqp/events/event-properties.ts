import type { Message, MessageProperties, Options } from 'amqplib';
import { parseContentType, PROTOBUF } from '../../protocol/content-type.js';
import { metadataFromHeaders } from '../../protocol/metadata.js';
import { messageIdentity } from '../identity.js';
import type { DeadLetter, EventDelivery, WireEvent } from '../../event-transport.js';
import {
  ATTEMPTS_HEADER,
  DEAD_AT_HEADER,
  DEAD_QUEUE_HEADER,
  DEATH_REASON_HEADER,
  LAST_ERROR_HEADER,
  PUBLISHED_AT_HEADER,
  readHeaderNumber,
} from '../../protocol/headers.js';

/**
 * AMQP properties of a published event: persistent, `message_id`, `timestamp`
 * (seconds) and `warren-published-at` (ms), `app_id` = publisher service,
 * `type` = full proto name, `content_type`, metadata as headers and, when the
 * transport stamps identity, the broker-validated `user_id`.
 */
export function eventProperties(event: WireEvent, userId: string | undefined, mandatory: boolean): Options.Publish {
  const properties: Options.Publish = {
    mandatory,
    persistent: true,
    contentType: event.contentType,
    messageId: event.messageId,
    timestamp: Math.floor(event.publishedAt / 1000),
    appId: event.publisher,
    type: event.type,
    headers: { ...event.metadata, [PUBLISHED_AT_HEADER]: event.publishedAt },
  };
  if (userId !== undefined) properties.userId = userId;
  return properties;
}

/**
 * Reads a consumed event. Events from other publishers may lack Warren's
 * headers; sane defaults fill in. `ownUser`: the subscriber's own broker user,
 * whose re-published copies keep their original publisher's identity.
 */
export function readEventDelivery(message: Message, queue: string, ownUser?: string): EventDelivery {
  const properties = message.properties;
  const headers = headersOf(message);
  const rawContentType = properties.contentType as string | undefined;
  const contentType = parseContentType(rawContentType);
  return {
    event: readEvent(message, contentType ?? PROTOBUF),
    unsupportedContentType: contentType === undefined ? String(rawContentType) : undefined,
    attempts: Math.max(0, readHeaderNumber(headers[ATTEMPTS_HEADER]) ?? 0),
    redelivered: message.fields.redelivered,
    queue,
    userId: messageIdentity(properties, ownUser),
  };
}

/** Reads a message of a dead-letter queue. */
export function readDeadLetter(message: Message, fallbackQueue: string): DeadLetter {
  const headers = headersOf(message);
  return {
    event: readEvent(message, parseContentType(message.properties.contentType as string | undefined) ?? PROTOBUF),
    reason: textOf(headers[DEATH_REASON_HEADER]) ?? 'unknown (no warren-death-reason header)',
    attempts: readHeaderNumber(headers[ATTEMPTS_HEADER]) ?? 0,
    deadAt: readHeaderNumber(headers[DEAD_AT_HEADER]) ?? 0,
    queue: textOf(headers[DEAD_QUEUE_HEADER]) ?? fallbackQueue,
  };
}

/** The queue a dead letter came from, if it says. */
export function deadLetterOrigin(message: Message): string | undefined {
  return textOf(headersOf(message)[DEAD_QUEUE_HEADER]);
}

/**
 * Properties to republish a consumed event with (retry, dead letter, replay):
 * everything the publisher set is kept except `user_id` (the broker accepts
 * only the republishing connection's own) and the broker's `x-death`
 * bookkeeping; Warren's retry and death headers are replaced by `headers`
 * (`undefined` values remove a header).
 */
export function republishProperties(
  message: Message,
  headers: Record<string, unknown>,
  mandatory: boolean,
): Options.Publish {
  const properties: MessageProperties = message.properties;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headersOf(message))) {
    if (key === 'x-death' || key.startsWith('x-first-death-') || key.startsWith('x-last-death-')) continue;
    kept[key] = value;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) delete kept[key];
    else kept[key] = value;
  }
  const result: Options.Publish = { mandatory, persistent: true, headers: kept };
  if (properties.contentType !== undefined) result.contentType = properties.contentType as string;
  if (properties.contentEncoding !== undefined) result.contentEncoding = properties.contentEncoding as string;
  if (properties.messageId !== undefined) result.messageId = properties.messageId as string;
  if (properties.timestamp !== undefined) result.timestamp = properties.timestamp as number;
  if (properties.appId !== undefined) result.appId = properties.appId as string;
  result.type =
    typeof properties.type === 'string' && properties.type !== '' ? properties.type : message.fields.routingKey;
  if (properties.correlationId !== undefined) result.correlationId = properties.correlationId as string;
  if (properties.priority !== undefined) result.priority = properties.priority as number;
  return result;
}

/** Headers of a retried event. */
export function retryHeaders(attempts: number, reason: string): Record<string, unknown> {
  return { [ATTEMPTS_HEADER]: attempts, [LAST_ERROR_HEADER]: reason };
}

/** Headers of a dead letter. */
export function deadLetterHeaders(attempts: number, reason: string, queue: string): Record<string, unknown> {
  return {
    [ATTEMPTS_HEADER]: attempts,
    [DEATH_REASON_HEADER]: reason,
    [DEAD_QUEUE_HEADER]: queue,
    [DEAD_AT_HEADER]: Date.now(),
  };
}

/** Headers of a replayed event: a fresh attempt count, no death record. */
export function replayHeaders(): Record<string, unknown> {
  return {
    [ATTEMPTS_HEADER]: undefined,
    [LAST_ERROR_HEADER]: undefined,
    [DEATH_REASON_HEADER]: undefined,
    [DEAD_QUEUE_HEADER]: undefined,
    [DEAD_AT_HEADER]: undefined,
  };
}

function readEvent(message: Message, contentType: WireEvent['contentType']): WireEvent {
  const properties = message.properties;
  const headers = headersOf(message);
  const seconds = readHeaderNumber(properties.timestamp);
  return {
    type: typeof properties.type === 'string' && properties.type !== '' ? properties.type : message.fields.routingKey,
    contentType,
    body: message.content,
    metadata: metadataFromHeaders(headers),
    messageId: String(properties.messageId ?? ''),
    publishedAt: readHeaderNumber(headers[PUBLISHED_AT_HEADER]) ?? (seconds === undefined ? 0 : seconds * 1000),
    publisher: typeof properties.appId === 'string' ? properties.appId : '',
  };
}

function headersOf(message: Message): Record<string, unknown> {
  return (message.properties.headers ?? {}) as Record<string, unknown>;
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}
