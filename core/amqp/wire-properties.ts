import type { ConsumeMessage, Message, Options } from 'amqplib';
import { Code, parseCode } from '../protocol/code.js';
import { JSON_TYPE, parseContentType, PROTOBUF, type ContentType } from '../protocol/content-type.js';
import { metadataFromHeaders, type Metadata } from '../protocol/metadata.js';
import type { Delivery, WireReply, WireRequest } from '../transport.js';
import { DIRECT_REPLY_TO } from '../protocol/rpc-names.js';
import { DEADLINE_HEADER, DELIVERIES_HEADER, MESSAGE_HEADER, readHeaderNumber, STATUS_HEADER } from '../protocol/headers.js';

/**
 * How many times a request has been delivered: quorum queues count it
 * (`x-delivery-count`, redeliveries so far); for classic queues servers carry
 * the count in `warren-deliveries` when they re-queue a redelivered request.
 * That header is believed only on a copy the server's own user published
 * (`user_id` = `ownUser`, which the broker validates): from anyone else it is
 * ignored, or any caller could make a first-time request look poisoned and
 * fill the dead-letter queue. Without `ownUser` (identity off) it is never
 * believed: a copy then counts as a second delivery, and its expiration
 * (recomputed from the deadline) still bounds it.
 */
export function deliveriesOf(message: ConsumeMessage, ownUser: string | undefined): number {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const quorum = readHeaderNumber(headers['x-delivery-count']);
  if (quorum !== undefined) return quorum + 1;
  const ownCopy = ownUser !== undefined && message.properties.userId === ownUser;
  return (ownCopy ? (readHeaderNumber(headers[DELIVERIES_HEADER]) ?? 1) : 1) + (message.fields.redelivered ? 1 : 0);
}

/** Deadline assumed for requests from peers that send none. */
export const ASSUMED_TIMEOUT_MS = 10_000;

/** AMQP properties of a request; replies go to `replyTo` (default direct reply-to, else the caller's own `warren.reply.…` queue). */
export function requestProperties(request: WireRequest, correlationId: string, userId: string | undefined, replyTo: string = DIRECT_REPLY_TO): Options.Publish {
  const headers: Record<string, unknown> = { ...request.metadata, [DEADLINE_HEADER]: request.deadline };
  const now = Date.now();
  const properties: Options.Publish = {
    mandatory: true,
    correlationId,
    replyTo,
    contentType: request.contentType,
    expiration: String(Math.max(1, Math.ceil(request.deadline - now))),
    messageId: request.messageId,
    timestamp: Math.floor(now / 1000),
    type: request.method,
    headers,
  };
  if (userId !== undefined) properties.userId = userId;
  return properties;
}

/** AMQP properties of a reply (never mandatory: a caller that left is not an error). */
export function replyProperties(reply: WireReply, correlationId: string | undefined, userId?: string): Options.Publish {
  const headers: Record<string, unknown> = { ...reply.metadata, [STATUS_HEADER]: reply.status };
  if (reply.message !== '') headers[MESSAGE_HEADER] = reply.message;
  const properties: Options.Publish = { contentType: reply.contentType, headers };
  if (correlationId !== undefined) properties.correlationId = correlationId;
  // the server's own broker user: the broker refuses any other, so a caller can tell who answered
  if (userId !== undefined) properties.userId = userId;
  return properties;
}

/** Reads a received reply. A reply without a valid status header is UNKNOWN. */
export function readReply(message: Message): WireReply {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const status = parseCode(readHeaderNumber(headers[STATUS_HEADER])) ?? Code.UNKNOWN;
  const text = headers[MESSAGE_HEADER];
  return {
    status,
    message: typeof text === 'string' ? text : Buffer.isBuffer(text) ? text.toString('utf8') : status === Code.UNKNOWN && headers[STATUS_HEADER] === undefined ? 'reply carried no warren-status header' : '',
    contentType: contentTypeOf(message.properties.contentType as string | undefined) ?? PROTOBUF,
    body: message.content,
    metadata: metadataFromHeaders(headers),
    userId: typeof message.properties.userId === 'string' ? message.properties.userId : undefined,
  };
}

/** Reads a received request into a delivery for the dispatcher (`deliveries`: from {@link deliveriesOf}). */
export function readDelivery(service: string, message: ConsumeMessage, deliveries: number): Delivery {
  const properties = message.properties;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const rawContentType = properties.contentType as string | undefined;
  const contentType = contentTypeOf(rawContentType);
  const deadline = readHeaderNumber(headers[DEADLINE_HEADER]) ?? Date.now() + ASSUMED_TIMEOUT_MS;
  const metadata: Metadata = metadataFromHeaders(headers);
  return {
    request: {
      service,
      method: typeof properties.type === 'string' ? properties.type : '',
      contentType: contentType ?? PROTOBUF,
      body: message.content,
      metadata,
      deadline,
      messageId: String(properties.messageId ?? properties.correlationId ?? ''),
    },
    unsupportedContentType: contentType === undefined ? String(rawContentType) : undefined,
    redelivered: message.fields.redelivered || deliveries > 1,
    userId: typeof properties.userId === 'string' ? properties.userId : undefined,
  };
}

/** `parseContentType`, with the exact names Warren itself sends answered without parsing. */
function contentTypeOf(value: string | undefined): ContentType | undefined {
  return value === PROTOBUF || value === JSON_TYPE ? value : parseContentType(value);
}

