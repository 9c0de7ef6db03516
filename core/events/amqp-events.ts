import type { ConfirmChannel } from 'amqplib';
import { Code } from '../code.js';
import type { Logger } from '../logger.js';
import { RpcError } from '../rpc-error.js';
import { listDeadLetters, replayDeadLetters } from './amqp-dead-letters.js';
import { eventProperties } from './amqp-event-properties.js';
import { AmqpEventSubscription } from './amqp-event-subscription.js';
import { ConfirmPublisher } from './confirm-publisher.js';
import type { EventConsumer, EventDeliveryHandler, EventQueueSpec, EventTransport, WireEvent } from './event-transport.js';
import { EVENTS_EXCHANGE } from './events-topology.js';

/** Where the event transport opens its channels: an amqplib `ChannelModel` (or a recovering one). */
export interface ChannelSource {
  createConfirmChannel(): Promise<ConfirmChannel>;
}

/** Options of {@link createAmqpEvents}. */
export interface AmqpEventsOptions {
  readonly logger: Logger;
  /** Stamped on published events as AMQP `user_id` (validated by the broker). Default none. */
  readonly userId?: string | undefined;
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
  let publisher: Promise<ConfirmPublisher> | undefined;
  let closing = false;

  function assertOpen(): void {
    if (closing) throw new RpcError(Code.UNAVAILABLE, 'transport is closed');
  }

  async function openChannel(what: string): Promise<ConfirmChannel> {
    try {
      const channel = await current.createConfirmChannel();
      channel.on('error', (error: Error) => logger.warn({ err: error }, `${what} channel error`));
      return channel;
    } catch (error) {
      throw RpcError.from(error, Code.UNAVAILABLE, `cannot open a channel for ${what}: the connection to the broker is lost`);
    }
  }

  function publishChannel(): Promise<ConfirmPublisher> {
    if (!publisher) {
      const opening = (async () => {
        const channel = await openChannel('event publishing');
        try {
          await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
        } catch (error) {
          await channel.close().catch(() => undefined);
          throw RpcError.from(error, Code.UNAVAILABLE, `cannot declare ${EVENTS_EXCHANGE}: ${(error as Error).message}`);
        }
        channel.on('close', () => {
          if (publisher === opening) publisher = undefined;
        });
        return new ConfirmPublisher(channel);
      })();
      opening.catch(() => {
        if (publisher === opening) publisher = undefined;
      });
      publisher = opening;
    }
    return publisher;
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
      throw RpcError.from(error, replyCode === 405 || replyCode === 406 ? Code.FAILED_PRECONDITION : Code.UNAVAILABLE, `cannot declare or consume ${subscription.queue}: ${(error as Error).message}`);
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
      const confirmed = await publishChannel();
      await confirmed.publish(EVENTS_EXCHANGE, event.type, event.body, eventProperties(event, options.userId, publishOptions.mandatory), `event ${event.type}`);
    },
    async subscribe(spec: EventQueueSpec, handler: EventDeliveryHandler): Promise<EventConsumer> {
      assertOpen();
      const subscription = new AmqpEventSubscription(spec, handler, logger.child({ group: spec.group }));
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
      return withChannel(`replay of ${group}`, (confirmed) => replayDeadLetters(confirmed, group, limit));
    },
    async attach(fresh: ChannelSource) {
      assertOpen();
      current = fresh;
      publisher = undefined;
      const results = await Promise.allSettled([...subscriptions].map(setUp));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw RpcError.from(failed.reason, Code.UNAVAILABLE, 'could not set up every event subscription on the new connection');
    },
    async close() {
      if (closing) return;
      closing = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      subscriptions.clear();
      const open = publisher;
      publisher = undefined;
      if (open) await (await open.catch(() => undefined))?.close();
    },
  };
}
