import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Code } from '../protocol/code.js';
import { decodeMessage, encodeMessage, PROTOBUF, type ContentType } from '../protocol/content-type.js';
import type { MessageType } from '../protocol/definition.js';
import { currentContext, type HandlerContext } from '../handler-context.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { validateMetadata, type Metadata } from '../protocol/metadata.js';
import { eventObservability, observeDeliveries } from '../observability/event-observer.js';
import { metricsFrom } from '../observability/metrics.js';
import type { ObservabilityOptions } from '../observability/observability-options.js';
import { RpcError } from '../protocol/rpc-error.js';
import { currentEvent, runInEventContext, type EventContext, type EventHandler } from '../event-context.js';
import { chainEventInterceptors, type EventCall, type EventInterceptor } from '../event-interceptor.js';
import {
  DEFAULT_PUBLISH_TIMEOUT_MS,
  type DeadLetter,
  type EventConsumer,
  type EventDelivery,
  type EventOutcome,
  type EventTransport,
  type ReplayResult,
} from '../event-transport.js';
import { validateEventType, validateGroup, validatePattern, topicMatches } from '../protocol/event-names.js';
import { failureOutcome, retryPolicy, type RedeliveryPolicy } from './redelivery-policy.js';
import type { EventAccessPolicy } from '../security/event-access.js';
import { REQUEST_ID_METADATA_KEY } from '../protocol/headers.js';

/** An event message codec: ts-proto's message functions with `$type` (generated with `outputTypeAnnotations=static-only`). */
export type EventType<T = any> = MessageType<T> & { readonly $type: string };
/** The decoded message of an event type. */
export type EventOf<E extends EventType> = ReturnType<E['decode']>;
/** What a publisher may pass: ts-proto's deep-partial message. */
export type EventInit<E extends EventType> = Parameters<E['fromPartial']>[0];

/** Default deliveries one instance works on at once, per group. */
export const DEFAULT_EVENT_PREFETCH = 32;

/**
 * Options of {@link createEventBus}. `metrics` and `tracing` (from
 * {@link ObservabilityOptions}) are on by default: `warren_events_*` into the
 * process's default registry, PRODUCER and CONSUMER spans whenever an
 * OpenTelemetry SDK is registered.
 */
export interface EventBusOptions extends ObservabilityOptions {
  /** The transport whose connection events share (AMQP or memory); it must offer `events`. */
  readonly transport: { readonly events?: EventTransport | undefined };
  /** This service's name, sent with every event as its publisher (AMQP `app_id`). */
  readonly service: string;
  /** Instance id, naming broadcast queues. Default `<host>-<pid>-<random>`. */
  readonly instance?: string;
  /** Body encoding of published events. Default protobuf. */
  readonly contentType?: ContentType;
  /** Reject publishes no queue is bound for (FAILED_PRECONDITION). Default true. */
  readonly requireRoute?: boolean;
  /** Wrap every publish and every handler run, outermost first. Default none. */
  readonly interceptors?: readonly EventInterceptor[];
  /**
   * Who may publish which event types (`createEventAccess`): an event from
   * anyone else is dead-lettered with the reason before it is decoded, never
   * handled. Default none: events from every publisher are handled.
   */
  readonly access?: EventAccessPolicy;
  /** Default: the process logger. */
  readonly logger?: Logger;
}

/** Options of one publish. */
export interface PublishOptions {
  /** Metadata for this event, added to what it inherits. */
  readonly metadata?: Metadata;
  /** Reuse an id to publish the same event again (after an UNAVAILABLE): subscribers de-duplicate by it. Default a new UUID. */
  readonly messageId?: string;
  /** Default: the bus's `requireRoute`. */
  readonly requireRoute?: boolean;
  /**
   * Where metadata (and `traceparent`) is inherited from. Default: the RPC
   * handler running now, else the event handler running now; `null` for none.
   */
  readonly parent?: HandlerContext | EventContext | null;
  /**
   * How long the publish may take until the broker confirmed it, waiting for a
   * lost connection included. Default {@link DEFAULT_PUBLISH_TIMEOUT_MS} (10 s).
   * Running out before the event was sent is UNAVAILABLE (not published), while
   * waiting for the confirm DEADLINE_EXCEEDED (may have been published: publish
   * again with the same `messageId`).
   */
  readonly timeoutMs?: number;
}

/** Options of one subscription. */
export interface SubscribeOptions {
  /** Group: every group gets every event; instances of one group share them (one durable queue). */
  readonly group: string;
  /** Every instance gets its own copy (an auto-delete queue, gone while the instance is). Default false. */
  readonly broadcast?: boolean;
  /** Handler attempts before the event is dead-lettered. Default 5. */
  readonly maxAttempts?: number;
  /** Delays before the 1st, 2nd… retry; the last repeats. Default [1000, 10000, 60000]. */
  readonly retryDelaysMs?: readonly number[];
  /** Deliveries worked on at once by this instance; the group's first subscription sets it. Default {@link DEFAULT_EVENT_PREFETCH}. */
  readonly prefetch?: number;
}

/** What a pattern subscription receives: the undecoded event. */
export interface RawEvent {
  readonly type: string;
  readonly contentType: ContentType;
  readonly body: Uint8Array;
  /** Decodes it as `type`; INVALID_ARGUMENT if it is another type or malformed. */
  decode<T>(type: EventType<T>): T;
}

/** A running subscription. */
export interface Subscription {
  readonly group: string;
  /** The queue it consumes. */
  readonly queue: string;
  /** Stops this handler. The group's queue and bindings stay, keeping events until a subscriber returns. */
  close(): Promise<void>;
}

/** Typed events over a transport: publish, subscribe, inspect and replay dead letters. */
export interface EventBus {
  readonly service: string;
  readonly instance: string;
  /** Publishes an event; resolves its message id once the broker confirmed it. */
  publish<E extends EventType>(type: E, message: EventInit<E>, options?: PublishOptions): Promise<string>;
  /** Subscribes a typed handler to one event type. */
  subscribe<E extends EventType>(
    type: E,
    handler: EventHandler<EventOf<E>>,
    options: SubscribeOptions,
  ): Promise<Subscription>;
  /** Subscribes to every type matching a topic pattern (`warren.test.v1.*`, `orders.#`). */
  subscribe(pattern: string, handler: EventHandler<RawEvent>, options: SubscribeOptions): Promise<Subscription>;
  /** Dead letters of a group, oldest first, left in place. Default limit 100. */
  deadLetters(group: string, options?: { readonly limit?: number }): Promise<DeadLetter[]>;
  /** Sends a group's dead letters (default all) back to their queue with a fresh attempt count. */
  replay(group: string, options?: { readonly limit?: number }): Promise<ReplayResult>;
  /** Closes this bus's subscriptions (not the transport). */
  close(): Promise<void>;
}

interface Route {
  readonly pattern: string;
  readonly type: EventType | undefined;
  readonly policy: RedeliveryPolicy;
  /** The handler inside the bus's interceptors. */
  readonly run: (call: EventCall) => Promise<void>;
}

interface Group {
  readonly name: string;
  readonly broadcast: boolean;
  readonly routes: Route[];
  readonly consumer: Promise<EventConsumer>;
}

/** Decodes an event's body as `type`; INVALID_ARGUMENT if it is another type or malformed. */
export function decodeEvent<T>(
  type: EventType<T>,
  event: { readonly type: string; readonly body: Uint8Array; readonly contentType: ContentType },
): T {
  if (event.type !== type.$type)
    throw new RpcError(Code.INVALID_ARGUMENT, `event is a ${event.type}, not a ${type.$type}`);
  return decodeMessage(type, event.body, event.contentType, `event ${event.type}`);
}

/**
 * Creates an event bus over a transport's events. Delivery is at-least-once:
 * a handler may see an event again (redelivery after a lost ack, a publish
 * retried after a lost confirm), so handlers with effects de-duplicate by
 * `ctx.messageId` (see `deduplicate`).
 *
 * ```ts
 * const events = createEventBus({ transport, service: 'orders' });
 * await events.publish(OrderCreated, { orderId });
 * await events.subscribe(OrderCreated, async (order, ctx) => { ... }, { group: 'notifications' });
 * ```
 */
export function createEventBus(options: EventBusOptions): EventBus {
  const transport = options.transport.events;
  if (!transport) throw new RpcError(Code.UNIMPLEMENTED, 'this transport does not carry events');
  const events: EventTransport = transport;
  const service = options.service;
  const instance = options.instance ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const contentType = options.contentType ?? PROTOBUF;
  const logger = (options.logger ?? defaultLogger()).child({ service, events: true });
  const groups = new Map<string, Group>();
  const metrics = metricsFrom(options.metrics);
  metrics?.watchTransport(options.transport);
  const interceptors = [...eventObservability(metrics, options.tracing ?? true), ...(options.interceptors ?? [])];

  async function publish(type: EventType, message: unknown, publishOptions: PublishOptions = {}): Promise<string> {
    validateEventType(type.$type);
    const parent =
      publishOptions.parent === undefined ? (currentContext() ?? currentEvent()) : (publishOptions.parent ?? undefined);
    const metadata: Metadata = { ...parent?.metadata, ...publishOptions.metadata };
    const messageId = publishOptions.messageId ?? randomUUID();
    const mandatory = publishOptions.requireRoute ?? options.requireRoute ?? true;
    const timeoutMs = publishOptions.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `publish timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`,
      );
    const deadline = Date.now() + timeoutMs;
    const initial: unknown = type.fromPartial(message ?? {});
    const send = chainEventInterceptors(interceptors, async (call) => {
      validateMetadata(call.metadata);
      const body = encodeMessage(
        type,
        call.message === initial ? initial : type.fromPartial(call.message ?? {}),
        contentType,
      );
      await events.publish(
        {
          type: call.type,
          contentType,
          body,
          metadata: call.metadata,
          messageId: call.messageId,
          publishedAt: Date.now(),
          publisher: service,
        },
        { mandatory, deadline },
      );
    });
    await send({ side: 'publish', type: type.$type, messageId, message: initial, metadata });
    return messageId;
  }

  /** Runs a group's delivery: the route of its exact type first, else the first matching pattern. */
  function dispatch(name: string, routes: readonly Route[]): (delivery: EventDelivery) => Promise<EventOutcome> {
    return async (delivery) => {
      const { event, attempts } = delivery;
      const route =
        routes.find((candidate) => candidate.pattern === event.type) ??
        routes.find((candidate) => topicMatches(candidate.pattern, event.type));
      const policy = route?.policy ?? routes[0]?.policy ?? retryPolicy({});
      try {
        const refused = options.access?.check(event.type, delivery.userId);
        if (refused !== undefined) throw refused;
        if (delivery.unsupportedContentType !== undefined) {
          throw new RpcError(
            Code.INVALID_ARGUMENT,
            `unsupported content type ${JSON.stringify(delivery.unsupportedContentType)}`,
          );
        }
        // Another instance of the group may handle it (a rolling deploy): retried, then dead-lettered.
        if (!route)
          throw new RpcError(Code.UNAVAILABLE, `no handler for ${event.type} in group ${name} on instance ${instance}`);
        const message = route.type ? decodeEvent(route.type, event) : rawEvent(event);
        const ctx: EventContext = {
          type: event.type,
          messageId: event.messageId,
          publisher: event.publisher,
          publisherUserId: delivery.userId,
          publishedAt: event.publishedAt,
          metadata: event.metadata,
          attempt: attempts + 1,
          redelivered: delivery.redelivered,
          group: name,
          queue: delivery.queue,
        };
        await runInEventContext(ctx, () =>
          route.run({
            side: 'handle',
            type: event.type,
            messageId: event.messageId,
            message,
            metadata: event.metadata,
            context: ctx,
          }),
        );
        return { kind: 'ack' };
      } catch (error) {
        const outcome = failureOutcome(error, attempts, policy);
        logger.warn(
          {
            group: name,
            type: event.type,
            messageId: event.messageId,
            requestId: event.metadata[REQUEST_ID_METADATA_KEY],
            attempt: attempts + 1,
            outcome: outcome.kind,
            err: error,
          },
          'event handler failed',
        );
        return outcome;
      }
    };
  }

  async function subscribe(
    target: EventType | string,
    handler: EventHandler<any>,
    subscribeOptions: SubscribeOptions,
  ): Promise<Subscription> {
    validateGroup(subscribeOptions.group);
    const pattern = typeof target === 'string' ? target : target.$type;
    if (typeof target === 'string') validatePattern(pattern);
    else validateEventType(pattern);
    const prefetch = subscribeOptions.prefetch ?? DEFAULT_EVENT_PREFETCH;
    if (!Number.isInteger(prefetch) || prefetch < 1)
      throw new RpcError(Code.INVALID_ARGUMENT, `prefetch must be a positive integer, got ${prefetch}`);
    const run = chainEventInterceptors(interceptors, async (call) => {
      await handler(call.message, call.context!);
    });
    const route: Route = {
      pattern,
      type: typeof target === 'string' ? undefined : target,
      policy: retryPolicy(subscribeOptions),
      run,
    };
    const broadcast = subscribeOptions.broadcast ?? false;
    let group = groups.get(subscribeOptions.group);
    if (group) {
      if (group.broadcast !== broadcast)
        throw new RpcError(
          Code.INVALID_ARGUMENT,
          `group ${group.name} is already subscribed ${group.broadcast ? 'as broadcast' : 'as a shared group'}`,
        );
      group.routes.push(route);
      await (await group.consumer).bind(pattern);
    } else {
      const name = subscribeOptions.group;
      const routes = [route];
      const consumer = events.subscribe(
        { group: name, broadcast, patterns: [pattern], prefetch, instance },
        observeDeliveries(name, dispatch(name, routes), { metrics, tracing: options.tracing ?? true }),
      );
      const created: Group = { name, broadcast, routes, consumer };
      groups.set(created.name, created);
      created.consumer.catch(() => {
        if (groups.get(created.name) === created) groups.delete(created.name);
      });
      group = created;
    }
    const owner = group;
    const consumer = await owner.consumer;
    return {
      group: owner.name,
      queue: consumer.queue,
      async close() {
        const index = owner.routes.indexOf(route);
        if (index < 0) return;
        owner.routes.splice(index, 1);
        if (owner.routes.length > 0) return;
        if (groups.get(owner.name) === owner) groups.delete(owner.name);
        await consumer.close();
      },
    };
  }

  return {
    service,
    instance,
    publish: publish as EventBus['publish'],
    subscribe: subscribe as EventBus['subscribe'],
    async deadLetters(group, listOptions = {}) {
      validateGroup(group);
      return events.deadLetters(group, listOptions.limit ?? 100);
    },
    async replay(group, replayOptions = {}) {
      validateGroup(group);
      return events.replay(group, replayOptions.limit ?? Number.MAX_SAFE_INTEGER);
    },
    async close() {
      const open = [...groups.values()];
      groups.clear();
      await Promise.all(
        open.map(async (group) => {
          group.routes.length = 0;
          await (await group.consumer.catch(() => undefined))?.close();
        }),
      );
    },
  };
}

function rawEvent(event: {
  readonly type: string;
  readonly body: Uint8Array;
  readonly contentType: ContentType;
}): RawEvent {
  return {
    type: event.type,
    contentType: event.contentType,
    body: event.body,
    decode: (type) => decodeEvent(type, event),
  };
}
