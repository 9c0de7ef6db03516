/**
 * Names and declarations of Warren's RPC topology on the broker (wire protocol 2).
 *
 * ```text
 *  client channel                       broker                          server channel
 *  ──────────────                       ──────                          ──────────────
 *  publish ─(mandatory)──▶  default exchange ""
 *   routing key = "rpc.pkg.Service"      │ (every queue is bound to it by name; nobody can add a binding)
 *                                        ▼
 *                           queue "rpc.pkg.Service" (durable) ──consume(prefetch)──▶ instance A
 *                                                            └─consume(prefetch)──▶ instance B
 *
 *  consume "warren.reply.<random>" ◀── default exchange "" ◀── publish(mandatory, routing key = reply_to)
 *   (exclusive, auto-delete, no-ack;                            then basic.ack of the request
 *    one per connection)
 * ```
 *
 * Requests go through the default exchange straight to the service queue, so
 * the only way to see one is to read that queue (read permission, which
 * `warren permissions` gives the serving user alone): no party can bind a
 * copy of another service's requests to an exchange of its own. Replies go to
 * a reply queue only the calling connection can consume (exclusive).
 *
 * A request that keeps killing the instances that take it (more than
 * `maxDeliveries` deliveries) is moved to the durable queue
 * "rpc.pkg.Service.dead" (published through the default exchange) with a
 * `warren-dead-reason` header, and its caller gets INTERNAL.
 *
 * Requests without a queue come back as basic.return (NO_ROUTE) and fail
 * fast with UNAVAILABLE.
 */

/** The wire protocol version this runtime speaks (PROTOCOL.md, "Versions"). */
export const PROTOCOL_VERSION = 2;

/**
 * The request exchange of wire protocol 1 (`direct`, service queues bound by
 * service name). Version 2 publishes requests through the default exchange
 * and neither declares nor binds it: kept for tools that clean it up.
 */
export const RPC_EXCHANGE = 'warren.rpc';

/** RabbitMQ's direct reply-to pseudo-queue (wire protocol 1; version 2 servers never reply to it). */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * Prefix of reply queues: each client connection declares one exclusive,
 * auto-delete queue `warren.reply.<random id>` and consumes it without ack.
 * The only reply addresses a version 2 server answers.
 */
export const REPLY_QUEUE_PREFIX = 'warren.reply.';

/**
 * The health check every server answers without a handler of its own
 * (`warren.health.v1.HealthService/Check`, PROTOCOL.md §8).
 */
export const HEALTH_CHECK_PATH = 'warren.health.v1.HealthService/Check';

/** `pkg.Service` → `rpc.pkg.Service`. */
export function serviceQueue(service: string): string {
  return `rpc.${service}`;
}

/**
 * True for addresses a server may reply to: `warren.reply.<id>` queues only.
 * Anything else could be another service's queue and is never published to;
 * direct reply-to addresses (`amq.rabbitmq.reply-to.…`) are refused too,
 * because RabbitMQ 3.10 closes the whole connection of a server that
 * replies to a forged token (PROTOCOL.md, version 2).
 */
export function isReplyAddress(replyTo: string): boolean {
  return replyTo.startsWith(REPLY_QUEUE_PREFIX) && replyTo.length > REPLY_QUEUE_PREFIX.length && replyTo.length <= 255;
}

/** A fresh reply queue name: the prefix and 128 random bits, so nobody can guess it. */
export function replyQueueName(random: Uint8Array): string {
  return `${REPLY_QUEUE_PREFIX}${Buffer.from(random).toString('hex')}`;
}

/** `pkg.Service` → `rpc.pkg.Service.dead`: where poison requests go. */
export function serviceDeadLetterQueue(service: string): string {
  return `rpc.${service}.dead`;
}

/** Service queue arguments. */
export interface ServiceQueueOptions {
  /** `classic` (default) or `quorum` (replicated, for clusters). */
  readonly queueType?: 'classic' | 'quorum';
  /** Most requests waiting in the queue; beyond it publishes are refused (RESOURCE_EXHAUSTED). Default unlimited. */
  readonly maxLength?: number;
}

/** AMQP arguments of a service queue. */
export function serviceQueueArguments(options: ServiceQueueOptions): Record<string, unknown> {
  const args: Record<string, unknown> = { 'x-queue-type': options.queueType ?? 'classic' };
  if (options.maxLength !== undefined) {
    args['x-max-length'] = options.maxLength;
    args['x-overflow'] = 'reject-publish';
  }
  return args;
}
