import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from '../../observability/logger.js';
import { deadLetterHeaders, readEventDelivery, republishProperties, retryHeaders } from './event-properties.js';
import { durableQueueArguments, type QueueType } from '../queue-type.js';
import { ConfirmPublisher } from './confirm-publisher.js';
import type { EventConsumer, EventDeliveryHandler, EventOutcome, EventQueueSpec } from '../../event-transport.js';
import {
  broadcastQueue,
  groupDeadLetterQueue,
  delayQueue,
  delayQueueArguments,
  EVENTS_EXCHANGE,
  groupQueue,
} from '../../protocol/event-names.js';
import { describeFailure } from '../../events/redelivery-policy.js';
import { messageIdentity, relayIdentity } from '../identity.js';

/** Pause before a delivery that could not be moved (retry or dead letter) goes back to its queue. */
const MOVE_FAILURE_PAUSE_MS = 1_000;

/** What one channel of a subscription holds: replaced wholesale on reconnection. */
interface Attachment {
  readonly channel: ConfirmChannel;
  readonly publisher: ConfirmPublisher;
  /** Delay exchanges and queues declared on this channel, by delay. */
  readonly delays: Map<number, Promise<void>>;
  consumerTag: string | undefined;
}

/**
 * One group's consumer on the broker (see the topology in events-topology.ts).
 * Everything it declares and consumes is set up by {@link setup}, which runs
 * again on each fresh channel after a reconnection; deliveries are settled on
 * the channel they came from: acked after success, or acked only once their
 * retry or dead-letter copy is confirmed, so a lost connection means
 * redelivery, never loss.
 */
export class AmqpEventSubscription implements EventConsumer {
  readonly queue: string;
  private readonly patterns: Set<string>;
  private readonly inFlight = new Set<Promise<void>>();
  private current: Attachment | undefined;
  private closed = false;

  constructor(
    private readonly spec: EventQueueSpec,
    private readonly handler: EventDeliveryHandler,
    private readonly logger: Logger,
    /** The connection's broker user: stamped on retry and dead-letter copies, which keep the publisher's identity. */
    private readonly ownUser?: string,
    /** Type of the group queue and its dead-letter queue: `quorum` on a cluster. */
    private readonly queueType: QueueType = 'classic',
  ) {
    this.queue = spec.broadcast ? broadcastQueue(spec.group, spec.instance) : groupQueue(spec.group);
    this.patterns = new Set(spec.patterns);
  }

  /**
   * Declares the exchange, the queue and its dead-letter queue, binds every
   * pattern and starts consuming on `channel`. Idempotent: run it on a fresh
   * channel after each reconnection (a previous channel is closed first).
   */
  async setup(channel: ConfirmChannel): Promise<void> {
    if (this.current) {
      const previous = this.current;
      this.current = undefined;
      await previous.channel.close().catch(() => undefined);
    }
    const attachment: Attachment = {
      channel,
      publisher: new ConfirmPublisher(channel),
      delays: new Map(),
      consumerTag: undefined,
    };
    channel.on('error', (error: Error) => this.logger.warn({ err: error, queue: this.queue }, 'event channel error'));
    channel.on('close', () => {
      if (this.current !== attachment) return;
      this.current = undefined;
      if (!this.closed)
        this.logger.warn({ queue: this.queue }, 'event channel closed; consuming again once the transport reattaches');
    });
    await channel.prefetch(this.spec.prefetch);
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    if (this.spec.broadcast)
      await channel.assertQueue(this.queue, { durable: false, exclusive: true, autoDelete: true });
    else await channel.assertQueue(this.queue, { durable: true, arguments: durableQueueArguments(this.queueType) });
    await channel.assertQueue(groupDeadLetterQueue(this.spec.group), {
      durable: true,
      arguments: durableQueueArguments(this.queueType),
    });
    for (const pattern of this.patterns) await channel.bindQueue(this.queue, EVENTS_EXCHANGE, pattern);
    this.current = attachment;
    const { consumerTag } = await channel.consume(this.queue, (message) => this.onMessage(attachment, message), {
      noAck: false,
    });
    attachment.consumerTag = consumerTag;
  }

  async bind(pattern: string): Promise<void> {
    this.patterns.add(pattern);
    await this.current?.channel.bindQueue(this.queue, EVENTS_EXCHANGE, pattern);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const attachment = this.current;
    if (attachment?.consumerTag !== undefined)
      await attachment.channel.cancel(attachment.consumerTag).catch(() => undefined);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    this.current = undefined;
    if (attachment) await attachment.publisher.close();
  }

  private onMessage(attachment: Attachment, message: ConsumeMessage | null): void {
    if (message === null) {
      this.logger.warn({ queue: this.queue }, 'the broker cancelled the event consumer (queue deleted?)');
      return;
    }
    const delivery = readEventDelivery(message, this.queue, this.ownUser);
    const done = this.handler(delivery)
      .catch((error: unknown): EventOutcome => ({
        kind: 'dead',
        attempts: delivery.attempts + 1,
        reason: describeFailure(error),
      }))
      .then((outcome) => this.settle(attachment, message, outcome))
      .catch((error: unknown) =>
        this.logger.warn(
          { err: error, queue: this.queue, messageId: delivery.event.messageId },
          'could not settle an event; the broker will redeliver it',
        ),
      )
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async settle(attachment: Attachment, message: ConsumeMessage, outcome: EventOutcome): Promise<void> {
    const { channel, publisher } = attachment;
    if (outcome.kind === 'ack') {
      channel.ack(message);
      return;
    }
    try {
      if (outcome.kind === 'retry') {
        await this.declareDelay(attachment, outcome.delayMs);
        const properties = this.relay(
          message,
          republishProperties(message, retryHeaders(outcome.attempts, outcome.reason), true),
        );
        await publisher.publish(
          delayQueue(outcome.delayMs),
          this.queue,
          message.content,
          properties,
          `the retry of an event from ${this.queue}`,
        );
      } else {
        const dead = groupDeadLetterQueue(this.spec.group);
        const properties = this.relay(
          message,
          republishProperties(message, deadLetterHeaders(outcome.attempts, outcome.reason, this.queue), true),
        );
        await publisher.publish('', dead, message.content, properties, `a dead letter to ${dead}`);
        this.logger.warn(
          {
            queue: this.queue,
            messageId: message.properties.messageId,
            attempts: outcome.attempts,
            reason: outcome.reason,
          },
          'event dead-lettered',
        );
      }
    } catch (error) {
      if (publisher.isClosed) throw error; // unacked: the broker redelivers it
      attachment.delays.clear(); // a declaration may have gone (queue deleted): declare again next time
      this.logger.error(
        { err: error, queue: this.queue },
        `could not move an event (${outcome.kind}); it goes back to its queue in ${MOVE_FAILURE_PAUSE_MS} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, MOVE_FAILURE_PAUSE_MS));
      channel.nack(message, false, true);
      return;
    }
    channel.ack(message);
  }

  /** A copy's properties with the publisher's identity carried over (core/amqp/identity.ts). */
  private relay(message: ConsumeMessage, properties: Options.Publish): Options.Publish {
    return relayIdentity(properties, messageIdentity(message.properties, this.ownUser), this.ownUser);
  }

  private declareDelay(attachment: Attachment, ms: number): Promise<void> {
    let declared = attachment.delays.get(ms);
    if (!declared) {
      const { channel } = attachment;
      const name = delayQueue(ms);
      declared = (async () => {
        await channel.assertExchange(name, 'fanout', { durable: true });
        await channel.assertQueue(name, { durable: true, arguments: delayQueueArguments(ms) });
        await channel.bindQueue(name, name, '');
      })();
      attachment.delays.set(ms, declared);
      declared.catch(() => attachment.delays.delete(ms));
    }
    return declared;
  }
}
