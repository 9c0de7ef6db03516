/**
 * Warren's wire obligations (what core/amqp puts on each request and reply
 * today, PROTOCOL.md §2-3), as switches on a raw amqplib client and server,
 * so each one can be priced alone against the bare textbook RPC.
 */
export interface Obligations {
  /** Requests on a confirm channel (publisher confirms; a nack is RESOURCE_EXHAUSTED in Warren). */
  readonly confirm: boolean;
  /** `mandatory` on requests (an unroutable request comes back as basic.return). */
  readonly mandatory: boolean;
  /** Request header `warren-deadline` (absolute ms), read by the server: one headers table per request. */
  readonly deadlineHeader: boolean;
  /** Per-message `expiration` (ms left, as a string): the broker drops a request whose caller gave up. */
  readonly expiration: boolean;
  /** A random UUID `message_id` per request (randomUUID()). */
  readonly uuidMessageId: boolean;
  /** `user_id` on requests and replies (the broker checks it against the connection's user). */
  readonly userId: boolean;
  /** Reply header `warren-status` (a headers table per reply), read by the client. */
  readonly replyHeaders: boolean;
  /** The same two facts as basic-property fields instead of tables: deadline in `timestamp`, status in `type`. */
  readonly fieldsNotHeaders: boolean;
  /** The other properties Warren sets on a request: `content_type`, `type` (method name), `timestamp`; `content_type` on replies. */
  readonly basicProperties: boolean;
  /** An exclusive, auto-delete reply queue per client connection instead of direct reply-to. */
  readonly replyQueue: boolean;
  /** Requests published to a direct exchange bound to the queue instead of the default exchange. */
  readonly exchange: boolean;
}

const BARE: Obligations = {
  confirm: false,
  mandatory: false,
  deadlineHeader: false,
  expiration: false,
  uuidMessageId: false,
  userId: false,
  replyHeaders: false,
  fieldsNotHeaders: false,
  basicProperties: false,
  replyQueue: false,
  exchange: false,
};

/** Everything Warren's wire does today (core/amqp/wire-properties.ts, request-channel.ts, service-consumer.ts). */
const WARREN_TODAY: Obligations = {
  ...BARE,
  confirm: true,
  mandatory: true,
  deadlineHeader: true,
  expiration: true,
  uuidMessageId: true,
  userId: true,
  replyHeaders: true,
  basicProperties: true,
  exchange: true,
};

/** The variants, each with what it turns on; `bare` is the baseline. */
export const VARIANTS: Readonly<Record<string, { readonly obligations: Obligations; readonly what: string }>> = {
  bare: {
    obligations: BARE,
    what: 'textbook amqplib RPC: default exchange, direct reply-to, correlation_id + reply_to only, protobuf body',
  },
  confirm: { obligations: { ...BARE, confirm: true }, what: 'requests on a confirm channel (publisher confirms)' },
  mandatory: { obligations: { ...BARE, mandatory: true }, what: '`mandatory` on requests' },
  'deadline-header': {
    obligations: { ...BARE, deadlineHeader: true },
    what: 'request header warren-deadline (a headers table per request)',
  },
  expiration: { obligations: { ...BARE, expiration: true }, what: 'per-message `expiration` (ms left)' },
  'uuid-message-id': { obligations: { ...BARE, uuidMessageId: true }, what: 'random UUID `message_id` per request' },
  'user-id': { obligations: { ...BARE, userId: true }, what: '`user_id` on requests and replies (broker-validated)' },
  'reply-headers': {
    obligations: { ...BARE, replyHeaders: true },
    what: 'reply header warren-status (a headers table per reply)',
  },
  'headers-tables': {
    obligations: { ...BARE, deadlineHeader: true, replyHeaders: true },
    what: 'deadline and status as headers tables (request + reply)',
  },
  'fields-not-tables': {
    obligations: { ...BARE, fieldsNotHeaders: true },
    what: 'the same deadline and status as basic-property fields (`timestamp`, `type`), no tables',
  },
  'basic-properties': {
    obligations: { ...BARE, basicProperties: true },
    what: '`content_type`, `type` (method), `timestamp` on requests; `content_type` on replies',
  },
  'reply-queue': {
    obligations: { ...BARE, replyQueue: true },
    what: 'exclusive auto-delete reply queue per connection instead of direct reply-to',
  },
  exchange: {
    obligations: { ...BARE, exchange: true },
    what: 'requests through a direct exchange instead of the default exchange',
  },
  'warren-today': {
    obligations: WARREN_TODAY,
    what: 'all of the above that Warren does today (no reply queue, headers not fields)',
  },
  'warren-no-confirm': {
    obligations: { ...WARREN_TODAY, confirm: false },
    what: 'warren-today without publisher confirms',
  },
};

/** The baseline variant's name. */
export const BASELINE_VARIANT = 'bare';
