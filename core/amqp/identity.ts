import type { Options } from 'amqplib';
import { ORIGIN_USER_HEADER } from '../protocol/headers.js';

/**
 * Caller identity over AMQP, and how it survives a re-publish.
 *
 * The identity of a request or event is its AMQP `user_id`. RabbitMQ refuses
 * (406 PRECONDITION_FAILED, closing the channel) a `user_id` that is not the
 * publishing connection's own user, so it is proof of who published — as long
 * as every service connects as its own broker user.
 *
 * Warren itself re-publishes some messages it received: a server re-queues a
 * redelivered request of a classic queue (to count deliveries), a subscriber
 * sends a failed event round a delay queue, replay moves dead letters back.
 * The broker only accepts the re-publisher's own user as `user_id`, so the
 * copy would lose the original identity, and a server that requires one would
 * refuse its own re-queued copy. The copy therefore carries the original
 * identity in the header `warren-origin-user`, and receivers believe that
 * header **only when the copy's own `user_id` is the receiver's own user**:
 * then the copy was re-published by a process holding the receiver's
 * credentials — an instance of the same service, which had already seen the
 * original's broker-validated `user_id`. From anyone else the header is
 * ignored and the message's own `user_id` counts, so a caller cannot claim
 * another identity by setting the header. (With one shared broker user for
 * every process, as in the default `guest` setup, identities mean nothing
 * anyway: see the security notes in README.md.)
 */

/** What {@link messageIdentity} reads: amqplib's message properties. */
export interface IdentityProperties {
  readonly userId?: unknown;
  readonly headers?: Record<string, unknown> | undefined;
}

/**
 * The identity a received message proves: its `user_id`, or, on a copy that
 * one of `ownUser`'s own connections re-published (its `user_id` is
 * `ownUser`) and carries `warren-origin-user`, the original's identity from
 * that header (empty: the original proved none). A message of `ownUser`
 * without the header is one the service published itself. `undefined` when
 * the message proves no identity.
 */
export function messageIdentity(properties: IdentityProperties, ownUser: string | undefined): string | undefined {
  const userId = typeof properties.userId === 'string' && properties.userId !== '' ? properties.userId : undefined;
  if (userId === undefined || ownUser === undefined || userId !== ownUser) return userId;
  const headers = properties.headers;
  if (headers === undefined || !(ORIGIN_USER_HEADER in headers)) return userId;
  return textOf(headers[ORIGIN_USER_HEADER]);
}

/**
 * Stamps a copy about to be re-published: `user_id` = `ownUser` (so receivers
 * can tell it came from this service's own credentials) and
 * `warren-origin-user` = `original`, the identity of the message it copies
 * (from {@link messageIdentity}; empty when it had none). Without `ownUser` (identity stamping off)
 * the copy carries neither, since nobody could trust the header. Returns the
 * same options object, changed.
 */
export function relayIdentity(
  publish: Options.Publish,
  original: string | undefined,
  ownUser: string | undefined,
): Options.Publish {
  const headers: Record<string, unknown> = { ...(publish.headers as Record<string, unknown> | undefined) };
  delete headers[ORIGIN_USER_HEADER];
  if (ownUser === undefined) {
    delete publish.userId;
  } else {
    publish.userId = ownUser;
    // empty when the original proved no identity: the copy must prove none either,
    // rather than pass for a message this service published itself
    headers[ORIGIN_USER_HEADER] = original ?? '';
  }
  publish.headers = headers;
  return publish;
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (Buffer.isBuffer(value)) return value.length === 0 ? undefined : value.toString('utf8');
  return undefined;
}
