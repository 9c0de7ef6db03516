import type { ConsumeMessage, Message, Options } from 'amqplib';
import { Code, parseCode } from '../protocol/code.js';
import { JSON_TYPE, parseContentType, PROTOBUF, type ContentType } from '../protocol/content-type.js';
import {
  boundMetadata,
  MAX_METADATA_BYTES,
  metadataBytes,
  metadataFromHeaders,
  type Metadata,
} from '../protocol/metadata.js';
import { boundStatusMessage } from '../protocol/wire-bounds.js';
import type { Delivery, WireReply, WireRequest } from '../transport.js';
import { PROTOCOL_VERSION } from '../protocol/rpc-names.js';
import {
  DEADLINE_HEADER,
  DELIVERIES_HEADER,
  MESSAGE_HEADER,
  PROTOCOL_HEADER,
  readHeaderNumber,
  STATUS_HEADER,
} from '../protocol/headers.js';

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

/** AMQP properties of a request. */
export function requestProperties(
  request: WireRequest,
  correlationId: string,
  userId: string | undefined,
  replyTo: string,
): Options.Publish {
  const headers: Record<string, unknown> = {
    ...request.metadata,
    [DEADLINE_HEADER]: request.deadline,
    [PROTOCOL_HEADER]: PROTOCOL_VERSION,
  };
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

/**
 * AMQP properties of a reply: `mandatory`, so a caller whose reply queue is
 * gone comes back as a basic.return (counted, never an error) instead of
 * vanishing unnoticed.
 */
export function replyProperties(reply: WireReply, correlationId: string | undefined, userId?: string): Options.Publish {
  const headers: Record<string, unknown> = {
    ...reply.metadata,
    [STATUS_HEADER]: reply.status,
    [PROTOCOL_HEADER]: PROTOCOL_VERSION,
  };
  if (reply.message !== '') headers[MESSAGE_HEADER] = reply.message;
  const properties: Options.Publish = { mandatory: true, contentType: reply.contentType, headers };
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
    message: boundStatusMessage(
      typeof text === 'string'
        ? text
        : Buffer.isBuffer(text)
          ? text.toString('utf8')
          : status === Code.UNKNOWN && headers[STATUS_HEADER] === undefined
            ? 'reply carried no warren-status header'
            : '',
    ),
    contentType: contentTypeOf(message.properties.contentType as string | undefined) ?? PROTOBUF,
    body: message.content,
    metadata: boundMetadata(metadataFromHeaders(headers)),
    userId: typeof message.properties.userId === 'string' ? message.properties.userId : undefined,
  };
}

/** Reads a received request into a delivery for the dispatcher (`deliveries`: from {@link deliveriesOf}). */
export function readDelivery(service: string, message: ConsumeMessage, deliveries: number): Delivery {
  const properties = message.properties;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const rawContentType = properties.contentType as string | undefined;
  const contentType = contentTypeOf(rawContentType);
  const sentDeadline = headers[DEADLINE_HEADER];
  const readDeadline = readHeaderNumber(Buffer.isBuffer(sentDeadline) ? sentDeadline.toString('utf8') : sentDeadline);
  const deadline = readDeadline ?? Date.now() + ASSUMED_TIMEOUT_MS;
  const metadata: Metadata = metadataFromHeaders(headers);
  let malformed: string | undefined;
  if (sentDeadline !== undefined && readDeadline === undefined)
    malformed = `${DEADLINE_HEADER} must be an integer (ms since the Unix epoch), got ${describeValue(sentDeadline)}`;
  else if (metadataBytes(metadata) > MAX_METADATA_BYTES)
    malformed = `metadata is ${metadataBytes(metadata)} bytes; at most ${MAX_METADATA_BYTES} are allowed`;
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
    malformed,
  };
}

/** A header value for an error message: short, whatever its type. */
function describeValue(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : typeof value;
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/** `parseContentType`, with the exact names Warren itself sends answered without parsing. */
function contentTypeOf(value: string | undefined): ContentType | undefined {
  return value === PROTOBUF || value === JSON_TYPE ? value : parseContentType(value);
}
