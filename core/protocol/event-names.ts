import { Code } from './code.js';
import { RpcError } from './rpc-error.js';

/**
 * Names of Warren's event topology on the broker, and the headers events carry.
 *
 * ```text
 *  publisher (confirm channel)
 *    publish(mandatory, persistent) routing key = full proto name,
 *    │                              e.g. "warren.test.v1.OrderCreated"
 *    ▼
 *  exchange "warren.events" (topic, durable)
 *    │ binding "warren.test.v1.OrderCreated"    │ binding "warren.test.v1.*"     │ binding "#"
 *    ▼                                          ▼                                ▼
 *  queue "events.notifications" (durable)     queue "events.analytics"         queue "events.cache.bcast.<instance>"
 *    competing consumers: every instance        (durable)                        (exclusive, auto-delete:
 *    of group "notifications" shares it                                           broadcast, one per instance)
 *    │
 *    │ handler failed, attempts < max ──▶ exchange "warren.events.delay.<ms>" (fanout, durable)
 *    │   (copy published with confirm,       │ routing key kept = "events.notifications"
 *    │    then the original is acked)        ▼
 *    │                                   queue "warren.events.delay.<ms>" (durable,
 *    │                                     x-message-ttl <ms>, x-dead-letter-exchange "")
 *    │                                       │ TTL expires: dead-lettered to the default
 *    │   ◀───────────────────────────────────┘ exchange with the kept key: back to the queue
 *    │
 *    │ attempts == max, not retryable, or undecodable
 *    ▼
 *  queue "events.notifications.dead" (durable, no consumer; headers warren-death-reason,
 *    │   warren-attempts, warren-dead-queue, warren-dead-at)
 *    │ replay(): default exchange, routing key = warren-dead-queue, attempts reset
 *    ▼
 *  queue "events.notifications"
 * ```
 *
 * One delay queue per distinct delay, shared by every group: each holds one
 * TTL, so messages expire in order and none waits behind a longer one. No
 * message is ever requeued by a nack, so a failing handler cannot spin.
 */

/** The topic exchange every event is published to. */
export const EVENTS_EXCHANGE = 'warren.events';

/** Prefix of every group queue. */
export const EVENT_QUEUE_PREFIX = 'events.';

const GROUP = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const WORD = /^(?:[A-Za-z0-9_-]+|\*|#)$/;
const TYPE_WORD = /^[A-Za-z0-9_]+$/;

/** `notifications` → `events.notifications`. */
export function groupQueue(group: string): string {
  return `${EVENT_QUEUE_PREFIX}${group}`;
}

/** `notifications` → `events.notifications.dead`. */
export function groupDeadLetterQueue(group: string): string {
  return `${EVENT_QUEUE_PREFIX}${group}.dead`;
}

/** The auto-delete queue of one broadcast instance: `events.<group>.bcast.<instance>`. */
export function broadcastQueue(group: string, instance: string): string {
  return `${EVENT_QUEUE_PREFIX}${group}.bcast.${instance}`;
}

/** Exchange and queue holding retries for `ms` milliseconds: `warren.events.delay.<ms>`. */
export function delayQueue(ms: number): string {
  return `${EVENTS_EXCHANGE}.delay.${ms}`;
}

/** AMQP arguments of a delay queue: messages wait `ms`, then go back by their routing key. */
export function delayQueueArguments(ms: number): Record<string, unknown> {
  return { 'x-message-ttl': ms, 'x-dead-letter-exchange': '' };
}

/**
 * Checks a group name: letters, digits, `_` and `-`, at most 100 characters
 * (no dots, so queue names stay unambiguous). Throws INVALID_ARGUMENT.
 */
export function validateGroup(group: string): void {
  if (!GROUP.test(group)) {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `event group ${JSON.stringify(group)} must match [A-Za-z0-9][A-Za-z0-9_-]* (at most 100 characters)`,
    );
  }
}

/** Checks an event type name (a full proto name: dot-separated identifiers). Throws INVALID_ARGUMENT. */
export function validateEventType(type: string): void {
  if (type.length === 0 || type.length > 255 || !type.split('.').every((word) => TYPE_WORD.test(word))) {
    throw new RpcError(Code.INVALID_ARGUMENT, `event type ${JSON.stringify(type)} is not a full proto message name`);
  }
}

/** Checks a binding pattern: dot-separated words, each a name, `*` (one word) or `#` (any words). */
export function validatePattern(pattern: string): void {
  if (pattern.length === 0 || pattern.length > 255 || !pattern.split('.').every((word) => WORD.test(word))) {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `event pattern ${JSON.stringify(pattern)} must be dot-separated words, * or #`,
    );
  }
}

/**
 * AMQP topic matching: `*` matches exactly one word, `#` zero or more.
 * `warren.test.v1.*` matches `warren.test.v1.OrderCreated`; `warren.#` matches
 * every type under `warren`.
 */
export function topicMatches(pattern: string, key: string): boolean {
  return matchWords(pattern.split('.'), 0, key.split('.'), 0);
}

function matchWords(pattern: string[], p: number, key: string[], k: number): boolean {
  if (p === pattern.length) return k === key.length;
  const word = pattern[p]!;
  if (word === '#') {
    for (let skip = k; skip <= key.length; skip++) {
      if (matchWords(pattern, p + 1, key, skip)) return true;
    }
    return false;
  }
  if (k === key.length) return false;
  return (word === '*' || word === key[k]) && matchWords(pattern, p + 1, key, k + 1);
}
