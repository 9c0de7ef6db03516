/**
 * Every `warren-*` AMQP header and well-known metadata key, in one home (PROTOCOL.md §3, §4, §5), and the readers
 * of header values as peers write them (AMQP integers of any width, or decimal strings; text as string or bytes).
 */

// ── requests and replies (PROTOCOL.md §3)
/** Request and reply header: the protocol version the sender speaks (`PROTOCOL_VERSION`; absent: version 1). */
export const PROTOCOL_HEADER = 'warren-protocol';
/** Request header: the absolute deadline, ms since the Unix epoch (any AMQP integer type, or a decimal string). */
export const DEADLINE_HEADER = 'warren-deadline';
/** Reply header: the numeric status code. */
export const STATUS_HEADER = 'warren-status';
/** Reply header: the status message. */
export const MESSAGE_HEADER = 'warren-message';

// ── copies a server re-publishes: re-queued and dead-lettered requests (PROTOCOL.md §4)
/** Deliveries so far, on a request a server re-queued itself (classic queues do not count redeliveries). */
export const DELIVERIES_HEADER = 'warren-deliveries';
/** On a dead-lettered request: why it was taken out of service. */
export const DEAD_REASON_HEADER = 'warren-dead-reason';
/** On a dead-lettered request or event: when, ms since the Unix epoch. */
export const DEAD_AT_HEADER = 'warren-dead-at';
/**
 * On a copy of a request: the original caller's broker-validated `user_id`, which a copy cannot carry as `user_id`
 * (the broker only accepts the publisher's own). Informational, for operators: never taken as identity.
 */
export const CALLER_HEADER = 'warren-caller';
/**
 * On a copy a service re-published (a retried or replayed event, a re-queued request): the original publisher's
 * broker user. Believed only when the copy's own `user_id` is the reader's own user.
 */
export const ORIGIN_USER_HEADER = 'warren-origin-user';

// ── events (PROTOCOL.md §5)
/** The publish time, ms since the Unix epoch (AMQP `timestamp` has seconds only). */
export const PUBLISHED_AT_HEADER = 'warren-published-at';
/** Failed handler attempts so far (absent: none). */
export const ATTEMPTS_HEADER = 'warren-attempts';
/** On a retried event: the last failure. */
export const LAST_ERROR_HEADER = 'warren-last-error';
/** On an event dead letter: why it was dead-lettered. */
export const DEATH_REASON_HEADER = 'warren-death-reason';
/** On an event dead letter: the queue it was dead-lettered from. */
export const DEAD_QUEUE_HEADER = 'warren-dead-queue';

// ── metadata keys with a meaning
/** Metadata key of the request id the gateway assigns (from `x-request-id`) and logs carry. */
export const REQUEST_ID_METADATA_KEY = 'request-id';

/** A numeric header as peers write it: any AMQP integer (number or bigint) or a decimal string; else `undefined`. */
export function readHeaderNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return undefined;
}

/** A text header as peers write it: a non-empty string or UTF-8 bytes; else `undefined`. */
export function readHeaderText(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (value instanceof Uint8Array && value.length > 0)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  return undefined;
}
