import { decodeMessage } from '../core/protocol/index.js';
import { type ContentType, type Metadata } from '../core/index.js';
import { type ProtoRegistry } from '../core/tooling.js';

/** What the CLI shows of one event (tailed or dead-lettered). */
export interface EventFields {
  readonly type: string;
  readonly contentType: ContentType;
  readonly body: Uint8Array;
  readonly messageId: string;
  readonly publisher: string;
  readonly publishedAt: number;
  readonly metadata: Metadata;
}

/** An event as JSON: its properties, and the message decoded with the protos (or why it could not be). */
export interface EventJson {
  readonly type: string;
  readonly messageId: string;
  readonly publisher: string;
  /** ISO 8601, or null when the publisher did not say. */
  readonly publishedAt: string | null;
  readonly metadata: Metadata;
  readonly contentType: ContentType;
  /** The event message in proto3 JSON, when the protos have its type and the body decodes. */
  readonly message?: unknown;
  /** Why `message` is absent; then `bodyBase64` holds the raw body. */
  readonly undecoded?: string;
  readonly bodyBase64?: string;
}

/**
 * Decodes an event body with the loaded protos: the event type is the full
 * proto name of its message. An unknown type or a body that does not decode
 * is shown raw (base64) with the reason, never dropped.
 */
export function eventJson(event: EventFields, registry: ProtoRegistry): EventJson {
  const base = {
    type: event.type,
    messageId: event.messageId,
    publisher: event.publisher,
    publishedAt: event.publishedAt > 0 ? new Date(event.publishedAt).toISOString() : null,
    metadata: event.metadata,
    contentType: event.contentType,
  };
  const raw = (undecoded: string): EventJson => ({
    ...base,
    undecoded,
    bodyBase64: Buffer.from(event.body).toString('base64'),
  });
  const type = registry.findMessage(event.type);
  if (!type) return raw(`no message ${event.type} in the protos`);
  try {
    return { ...base, message: type.toJSON(decodeMessage(type, event.body, event.contentType, `event ${event.type}`)) };
  } catch (error) {
    return raw((error as Error).message);
  }
}

/** One line for a terminal: time, type, publisher, the message as compact JSON. */
export function eventLine(event: EventJson): string {
  const time = event.publishedAt === null ? '--:--:--.---' : event.publishedAt.slice(11, 23);
  const body =
    event.message !== undefined
      ? JSON.stringify(event.message)
      : `(${Buffer.from(event.bodyBase64 ?? '', 'base64').length} bytes: ${event.undecoded})`;
  const metadata = Object.keys(event.metadata).length > 0 ? `  metadata ${JSON.stringify(event.metadata)}` : '';
  return `${time}  ${event.type}  from ${event.publisher || '?'}  ${body}${metadata}`;
}
