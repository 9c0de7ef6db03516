import { AsyncLocalStorage } from 'node:async_hooks';
import type { Metadata } from './protocol/metadata.js';

/**
 * What an event handler knows about the event it handles. Events the handler
 * publishes while it runs inherit its `metadata` (and so its `traceparent`).
 */
export interface EventContext {
  /** Full proto name of the event, e.g. `warren.test.v1.OrderCreated`. */
  readonly type: string;
  /** Unique per event; the same on every retry, redelivery and replay: de-duplicate by it. */
  readonly messageId: string;
  /** Name of the publishing service, as the publisher says (AMQP `app_id`): any publisher can claim any name. */
  readonly publisher: string;
  /**
   * The publisher's broker-validated identity (AMQP `user_id`, checked by
   * RabbitMQ against the publishing connection's user; kept across retries and
   * replays by the group itself). `undefined` when the event proves none.
   */
  readonly publisherUserId?: string | undefined;
  /** When it was published, ms since the Unix epoch. */
  readonly publishedAt: number;
  /** Metadata the publisher sent (with `traceparent` when tracing). */
  readonly metadata: Metadata;
  /** This attempt's number: 1 on first delivery, then 2, 3… on retries. */
  readonly attempt: number;
  /** The broker delivered it before without it being settled (it may have run). */
  readonly redelivered: boolean;
  /** The subscription's group. */
  readonly group: string;
  /** The queue it came from. */
  readonly queue: string;
}

const current = new AsyncLocalStorage<EventContext>();

/** Runs `fn` with `ctx` as the current event context. */
export function runInEventContext<T>(ctx: EventContext, fn: () => T): T {
  return current.run(ctx, fn);
}

/** The event context of the code running now, if inside an event handler. */
export function currentEvent(): EventContext | undefined {
  return current.getStore();
}

/** A subscriber's handler: throw to fail the attempt (see the retry policy). */
export type EventHandler<M> = (message: M, ctx: EventContext) => unknown;
