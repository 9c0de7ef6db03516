/**
 * Names and declarations of Warren's RPC topology on the broker.
 *
 * ```text
 *  client channel                       broker                          server channel
 *  ──────────────                       ──────                          ──────────────
 *  publish ─(mandatory)──▶  exchange "warren.rpc" (direct, durable)
 *   routing key = "pkg.Service"          │ binding key "pkg.Service"
 *                                        ▼
 *                           queue "rpc.pkg.Service" (durable) ──consume(prefetch)──▶ instance A
 *                                                            └─consume(prefetch)──▶ instance B
 *
 *  consume "amq.rabbitmq.reply-to" ◀── default exchange "" ◀── publish(routing key = reply_to)
 *   (no-ack, before the first publish)                          then basic.ack of the request
 * ```
 *
 * A request that keeps killing the instances that take it (more than
 * `maxDeliveries` deliveries) is moved to the durable queue
 * "rpc.pkg.Service.dead" (published through the default exchange) with a
 * `warren-dead-reason` header, and its caller gets INTERNAL.
 *
 * Requests without a bound queue come back as basic.return (NO_ROUTE) and
 * fail fast with UNAVAILABLE. Replies go through direct reply-to, so no reply
 * queue is declared or left behind.
 */

/** The exchange every request is published to. */
export const RPC_EXCHANGE = 'warren.rpc';

/** RabbitMQ's direct reply-to pseudo-queue. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * Prefix of the reply queues a client may declare itself instead of using
 * direct reply-to (exclusive, server-named by the client: `warren.reply.<id>`).
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
 * True for addresses a server may reply to: direct reply-to addresses and the
 * documented reply-queue prefix. Anything else could be another service's
 * queue and is never published to.
 */
export function isReplyAddress(replyTo: string): boolean {
  return replyTo.startsWith(`${DIRECT_REPLY_TO}.`) || (replyTo.startsWith(REPLY_QUEUE_PREFIX) && replyTo.length > REPLY_QUEUE_PREFIX.length);
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
