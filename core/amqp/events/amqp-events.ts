import type { ConfirmChannel } from 'amqplib';
import { Code } from '../../protocol/code.js';
import type { Logger } from '../../observability/logger.js';
import { RpcError } from '../../protocol/rpc-error.js';
import { listDeadLetters, replayDeadLetters } from './dead-letters.js';
import { eventProperties } from './event-properties.js';
import { AmqpEventSubscription } from './event-subscription.js';
import type { QueueType } from '../queue-type.js';
import { isRefused, refusedBackoffMs } from '../refused-publish.js';
import { ConfirmPublisher, wasNotSent } from './confirm-publisher.js';
import {
  DEFAULT_PUBLISH_TIMEOUT_MS,
  type EventConsumer,
  type EventDeliveryHandler,
  type EventQueueSpec,
  type EventTransport,
  type WireEvent,
} from '../../event-transport.js';
import { EVENTS_EXCHANGE } from '../../protocol/event-names.js';
import { remainingMs } from '../../protocol/deadline.js';

/** Where the event transport opens its channels: an amqplib `ChannelModel` (or a recovering one). */
export interface ChannelSource {
  createConfirmChannel(): Promise<ConfirmChannel>;
}

/**
 * The reconnecting connection events ride on (the AMQP transport's), so a
 * publish made while it is down waits for the next one, like an RPC call.
 */
export interface EventConnection {
  /** The connection now, or the next one; rejects with `signal.reason` once `signal` aborts. */
  whenConnected(signal: AbortSignal): Promise<ChannelSource>;
  /** The connection now, undefined while it is down. */
  current(): ChannelSource | undefined;
  /** The broker's reason while it blocks publishing on this connection (memory or disk alarm), else undefined. */
  blocked(): string | undefined;
}

/** Options of {@link createAmqpEvents}. */
export interface AmqpEventsOptions {
  readonly logger: Logger;
  /** Stamped on published events as AMQP `user_id` (validated by the broker). Default none. */
  readonly userId?: string | undefined;
  /**
   * How long a publish the broker refused (nack) is tried again on a fresh
   * channel, within the publish timeout (core/amqp/refused-publish.ts). Default 0: reported at once.
   */
  readonly failoverRetryMs?: number;
  /** Type of group queues and their dead-letter queues (broadcast queues stay classic and exclusive). Default `classic`. */
  readonly queueType?: QueueType;
  /**
   * When given, publishes wait (up to their timeout) for a lost connection to
   * come back and fail fast while the broker blocks it. Default none: the
   * source given to `createAmqpEvents` / `attach` is used as it is.
   */
  readonly connection?: EventConnection;
}

/** The publishing channel of one connection: opening, then opened. */
interface PublisherSlot {
  readonly source: ChannelSource;
  opening: Promise<ConfirmPublisher>;
  opened?: ConfirmPublisher;
}

/** What the event transport holds now (diagnostic, for leak checks). */
export interface AmqpEventsStats {
  /** Publishes sent and waiting for the broker's confirm. */
  pendingPublishes: number;
  /** Open subscriptions. */
  subscriptions: number;
}

/** The AMQP event transport, with its reconnection hook. */
export interface AmqpEvents extends EventTransport {
  /**
   * Moves everything onto a fresh connection: later publishes open their
   * channel on it, and every open subscription re-runs its setup there
   * (exchange, queues, bindings, consumer). Call it once the connection the
   * events were using was replaced. Rejects with the first setup failure
   * after trying every subscription.
   */
  attach(source: ChannelSource): Promise<void>;
  /** Counters for diagnostics and leak checks. */
  stats(): AmqpEventsStats;
}

/**
 * Events over RabbitMQ on a connection the RPC transport shares: one confirm
 * channel for publishing (opened on first publish, again after it closes),
 * one confirm channel per subscription (so prefetch is per group), and a
 * short-lived channel per dead-letter operation.
 */
export function createAmqpEvents(source: ChannelSource, options: AmqpEventsOptions): AmqpEvents {
  const logger = options.logger.child({ facet: 'events' });
  const subscriptions = new Set<AmqpEventSubscription>();
  let current = source;
  let publisher: PublisherSlot | undefined;
  let closing = false;

  function assertOpen(): void {
    if (closing) throw new RpcError(Code.UNAVAILABLE, 'transport is closed');
  }

  async function openChannel(what: string, on: ChannelSource = current): Promise<ConfirmChannel> {
    try {
      const channel = await on.createConfirmChannel();
      channel.on('error', (error: Error) => logger.warn({ err: error }, `${what} channel error`));
      return channel;
    } catch (error) {
      throw RpcError.from(
        error,
        Code.UNAVAILABLE,
        `cannot open a channel for ${what}: the connection to the broker is lost`,
      );
    }
  }

  /** New publishes go to a fresh channel; this one closes once its confirms are in. */
  function retirePublisher(refused: ConfirmPublisher): void {
    if (publisher?.opened !== refused) return;
    publisher = undefined;
    void refused.close();
  }

  /** The publishing channel on `on` (the current connection), opened on first use and again after it closes. */
  function publishChannel(on: ChannelSource = current): Promise<ConfirmPublisher> {
    if (!publisher || publisher.source !== on) {
      const entry = { source: on } as PublisherSlot; // `opening` is set right below
      entry.opening = (async () => {
        const channel = await openChannel('event publishing', on);
        try {
          await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
        } catch (error) {
          await channel.close().catch(() => undefined);
          throw RpcError.from(
            error,
            Code.UNAVAILABLE,
            `cannot declare ${EVENTS_EXCHANGE}: ${(error as Error).message}`,
          );
        }
        channel.on('close', () => {
          if (publisher === entry) publisher = undefined;
        });
        entry.opened = new ConfirmPublisher(channel);
        return entry.opened;
      })();
      entry.opening.catch(() => {
        if (publisher === entry) publisher = undefined;
      });
      publisher = entry;
    }
    return publisher.opening;
  }

  /**
   * Publishes one event within its deadline. While the connection is down it
   * waits for the next one; a failure before anything was written (the
   * connection dropped under it) is tried again on the next connection; the
   * broker blocking this connection fails at once. Timing out before sending
   * is UNAVAILABLE (not published), after sending DEADLINE_EXCEEDED (may have
   * been published).
   */
  async function publishWithin(event: WireEvent, mandatory: boolean, deadline: number): Promise<void> {
    const what = `event ${event.type}`;
    const connection = options.connection;
    const blockedBy = connection?.blocked();
    if (blockedBy !== undefined)
      throw new RpcError(
        Code.UNAVAILABLE,
        `${what} was not published: the broker is blocking publishers (${blockedBy}); try again later`,
      );
    const properties = eventProperties(event, options.userId, mandatory);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), remainingMs(deadline));
    const refusedUntil = Date.now() + (options.failoverRetryMs ?? 0);
    try {
      for (let attempt = 1; ; attempt++) {
        let on = current;
        if (connection) {
          try {
            on = await connection.whenConnected(timeout.signal);
          } catch (error) {
            if (!timeout.signal.aborted) throw RpcError.from(error, Code.UNAVAILABLE, `${what} was not published`);
            throw new RpcError(
              Code.UNAVAILABLE,
              `${what} was not published: no connection to the broker within the publish timeout`,
            );
          }
        }
        let sent = false;
        let confirmed: ConfirmPublisher | undefined;
        try {
          confirmed = await publishChannel(on);
          sent = true;
          await confirmed.publish(EVENTS_EXCHANGE, event.type, event.body, properties, what, timeout.signal);
          return;
        } catch (error) {
          // refused, so not enqueued: publish again on a fresh channel while a quorum queue may be failing over
          const backoff = refusedBackoffMs(attempt);
          if (
            isRefused(error) &&
            confirmed &&
            !closing &&
            !timeout.signal.aborted &&
            Date.now() + backoff < refusedUntil
          ) {
            retirePublisher(confirmed);
            await pause(backoff, timeout.signal);
            continue;
          }
          const unsent = !sent || wasNotSent(error);
          // only a publish that never left, lost with its connection, is tried again: no duplicate, and a real refusal
          // (e.g. no permission for the exchange, on a connection still up) is reported at once
          if (!connection || closing || !unsent || timeout.signal.aborted || connection.current() === on) throw error;
          const blocked = connection.blocked();
          if (blocked !== undefined)
            throw new RpcError(
              Code.UNAVAILABLE,
              `${what} was not published: the broker is blocking publishers (${blocked}); try again later`,
            );
          await pause(20, timeout.signal);
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs a subscription's setup on a fresh channel. A queue declared with other
   * arguments (406) or an exclusive queue another connection holds (405: the
   * broker has not yet noticed a dropped connection, or two instances share an
   * id) is FAILED_PRECONDITION; anything else UNAVAILABLE.
   */
  async function setUp(subscription: AmqpEventSubscription): Promise<void> {
    const channel = await openChannel(`queue ${subscription.queue}`);
    try {
      await subscription.setup(channel);
    } catch (error) {
      await channel.close().catch(() => undefined);
      const replyCode = (error as { code?: unknown }).code;
      throw RpcError.from(
        error,
        replyCode === 405 || replyCode === 406 ? Code.FAILED_PRECONDITION : Code.UNAVAILABLE,
        `cannot declare or consume ${subscription.queue}: ${(error as Error).message}`,
      );
    }
  }

  async function withChannel<T>(what: string, use: (publisher: ConfirmPublisher) => Promise<T>): Promise<T> {
    assertOpen();
    const channel = await openChannel(what);
    const confirmed = new ConfirmPublisher(channel);
    try {
      return await use(confirmed);
    } finally {
      await confirmed.close();
    }
  }

  return {
    async publish(event: WireEvent, publishOptions) {
      assertOpen();
      await publishWithin(
        event,
        publishOptions.mandatory,
        publishOptions.deadline ?? Date.now() + DEFAULT_PUBLISH_TIMEOUT_MS,
      );
    },
    async subscribe(spec: EventQueueSpec, handler: EventDeliveryHandler): Promise<EventConsumer> {
      assertOpen();
      const subscription = new AmqpEventSubscription(
        spec,
        handler,
        logger.child({ group: spec.group }),
        options.userId,
        options.queueType,
      );
      await setUp(subscription);
      subscriptions.add(subscription);
      return {
        queue: subscription.queue,
        bind: (pattern) => subscription.bind(pattern),
        async close() {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    deadLetters(group, limit) {
      return withChannel(`dead letters of ${group}`, (confirmed) => listDeadLetters(confirmed.channel, group, limit));
    },
    replay(group, limit) {
      return withChannel(`replay of ${group}`, (confirmed) =>
        replayDeadLetters(confirmed, group, limit, options.userId),
      );
    },
    stats() {
      return { pendingPublishes: publisher?.opened?.pendingCount ?? 0, subscriptions: subscriptions.size };
    },
    async attach(fresh: ChannelSource) {
      assertOpen();
      current = fresh;
      publisher = undefined;
      const results = await Promise.allSettled([...subscriptions].map(setUp));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed)
        throw RpcError.from(
          failed.reason,
          Code.UNAVAILABLE,
          'could not set up every event subscription on the new connection',
        );
    },
    async close() {
      if (closing) return;
      closing = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      subscriptions.clear();
      const open = publisher;
      publisher = undefined;
      if (open) await (await open.opening.catch(() => undefined))?.close();
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
