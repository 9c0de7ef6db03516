import type { ContentType } from './protocol/content-type.js';
import type { Metadata } from './protocol/metadata.js';

/**
 * An event as it travels: bytes plus the protocol's properties. The routing
 * key is `type`, the event message's full proto name.
 */
export interface WireEvent {
  /** Full proto name of the event message, e.g. `warren.test.v1.OrderCreated`. */
  readonly type: string;
  readonly contentType: ContentType;
  readonly body: Uint8Array;
  /** Metadata (with `traceparent`/`tracestate` when tracing), sent as headers. */
  readonly metadata: Metadata;
  /** Unique per event; stays the same across retries, redeliveries and replays. */
  readonly messageId: string;
  /** When it was published, ms since the Unix epoch. */
  readonly publishedAt: number;
  /** Name of the publishing service (AMQP `app_id`). */
  readonly publisher: string;
}

/** An event handed to a subscriber, with what the broker and earlier attempts say about it. */
export interface EventDelivery {
  readonly event: WireEvent;
  /** The raw content type, when it is not one Warren speaks (the event is dead-lettered). */
  readonly unsupportedContentType: string | undefined;
  /** Failed handler attempts before this one (0 on first delivery). */
  readonly attempts: number;
  /** The broker delivered it before to a consumer that did not settle it. */
  readonly redelivered: boolean;
  /** The queue it was consumed from. */
  readonly queue: string;
  /**
   * Broker-validated identity of the publisher (AMQP `user_id`; on a retry or
   * replay copy, the original publisher's: core/amqp/identity.ts). Absent
   * when the event proves none (or the transport has no identities).
   */
  readonly userId?: string | undefined;
}

/**
 * What the subscriber decided about one delivery: acknowledge it, send it
 * round again after a delay, or move it to the group's dead-letter queue.
 */
export type EventOutcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly attempts: number; readonly reason: string }
  | { readonly kind: 'dead'; readonly attempts: number; readonly reason: string };

/** Runs one delivery and says how to settle it. Should not reject (a rejection dead-letters). */
export type EventDeliveryHandler = (delivery: EventDelivery) => Promise<EventOutcome>;

/** The queue a subscription consumes. */
export interface EventQueueSpec {
  /** Group name: competing consumers share its queue; names the dead-letter queue. */
  readonly group: string;
  /** Every instance gets its own auto-delete queue instead of sharing the group's. */
  readonly broadcast: boolean;
  /** Binding keys (event types or topic patterns) the queue starts with. */
  readonly patterns: readonly string[];
  /** Most deliveries worked on at once. */
  readonly prefetch: number;
  /** Instance id, naming a broadcast queue. */
  readonly instance: string;
}

/** A running consumer of one event queue. */
export interface EventConsumer {
  /** The queue it consumes. */
  readonly queue: string;
  /** Adds a binding (event type or pattern) to the queue. */
  bind(pattern: string): Promise<void>;
  /** Stops taking deliveries and waits for in-flight ones to settle. Group queues stay (durable). */
  close(): Promise<void>;
}

/** One event in a group's dead-letter queue. */
export interface DeadLetter {
  readonly event: WireEvent;
  /** Why it was dead-lettered: the last failure, e.g. `[INTERNAL] handler failed: ...`. */
  readonly reason: string;
  /** Handler attempts made. */
  readonly attempts: number;
  /** When it was dead-lettered, ms since the epoch. */
  readonly deadAt: number;
  /** The queue it was dead-lettered from (where replay sends it). */
  readonly queue: string;
}

/** What `replay` did. */
export interface ReplayResult {
  /** Dead letters sent back to their queue. */
  readonly replayed: number;
  /** Dead letters kept because their queue no longer exists (a broadcast instance that left). */
  readonly kept: number;
}

/** Default time a publish may take, waiting for a connection included: 10 s, as an RPC call's default timeout. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

/** Options of {@link EventTransport.publish}. */
export interface EventPublishOptions {
  /** Refuse it (FAILED_PRECONDITION) when no queue is bound for its type. */
  readonly mandatory: boolean;
  /** Absolute time (ms since the epoch) the publish must be confirmed by. Default now + {@link DEFAULT_PUBLISH_TIMEOUT_MS}. */
  readonly deadline?: number;
}

/**
 * Moves events between publishers and subscriber queues: the transport half
 * of the event bus. The AMQP transport's `events` is the real one; the
 * memory transport's has the same semantics for tests. Retry policy, codecs
 * and handler logic sit above it, in the event bus, shared by both.
 */
export interface EventTransport {
  /**
   * Publishes one event and resolves once the broker has confirmed it.
   * Rejects with FAILED_PRECONDITION when `mandatory` and no queue is bound
   * for its type, RESOURCE_EXHAUSTED when the broker refuses it, UNAVAILABLE
   * when the connection is lost before the confirm or the broker blocks
   * publishers. While the connection is down the publish waits for it until
   * `deadline` (then UNAVAILABLE: not published); a confirm still missing at
   * `deadline` is DEADLINE_EXCEEDED (it may or may not have been published).
   */
  publish(event: WireEvent, options: EventPublishOptions): Promise<void>;
  /** Declares the queue (and its dead-letter queue), binds it and consumes it. */
  subscribe(spec: EventQueueSpec, handler: EventDeliveryHandler): Promise<EventConsumer>;
  /** Up to `limit` dead letters of a group, oldest first, left in place. NOT_FOUND for an unknown group. */
  deadLetters(group: string, limit: number): Promise<DeadLetter[]>;
  /** Sends up to `limit` dead letters back to their queue with a fresh attempt count. */
  replay(group: string, limit: number): Promise<ReplayResult>;
  /** Closes every consumer; pending publishes reject. */
  close(): Promise<void>;
}
