import type { EventTransport } from './event-transport.js';
import type { WireReply, WireRequest } from './protocol/wire-message.js';

export type { WireReply, WireRequest } from './protocol/wire-message.js';

/** A request handed to a server, with what the broker says about it. */
export interface Delivery {
  readonly request: WireRequest;
  /** The raw content type, when it is not one Warren speaks. */
  readonly unsupportedContentType: string | undefined;
  /** The broker delivered it before, to an instance that did not ack it. */
  readonly redelivered: boolean;
  /** Broker-validated identity of the publisher (AMQP `user_id`), if set. */
  readonly userId: string | undefined;
  /**
   * Why the request's envelope breaks the protocol (an unreadable
   * `warren-deadline`, metadata over 8 KiB), when it does: the dispatcher
   * answers INVALID_ARGUMENT with it and runs nothing. Absent: well-formed.
   */
  readonly malformed?: string | undefined;
}

/**
 * Answers one delivery. Resolves the reply to send, or `null` to send none
 * (the request expired, or its caller can no longer be answered). The
 * transport acknowledges the request only after the reply is published.
 */
export type DeliveryHandler = (delivery: Delivery) => Promise<WireReply | null>;

/** How a service queue is consumed. */
export interface ServeOptions {
  /** Most requests one instance works on at once (AMQP prefetch). */
  readonly prefetch: number;
  /** Queue type: `classic` (default) or `quorum` (replicated). */
  readonly queueType?: 'classic' | 'quorum';
  /** Most requests waiting; beyond it calls fail with RESOURCE_EXHAUSTED. Default unlimited. */
  readonly maxLength?: number;
  /** Deliveries after which a request that keeps killing instances is dead-lettered (AMQP). Default 5. */
  readonly maxDeliveries?: number;
}

/** A running consumer of one service queue. */
export interface Consumer {
  /** Stops taking requests, waits for in-flight ones to reply and ack. */
  close(): Promise<void>;
}

/**
 * Moves requests and replies between clients and servers. The AMQP transport
 * is the real one; the memory transport has the same semantics for tests.
 * Client and server logic (codecs, deadlines, interceptors, errors) sits
 * above this interface and is shared by both.
 */
export interface Transport {
  /** A short name for logs: `amqp` or `memory`. */
  readonly kind: string;
  /**
   * Sends a request and resolves its reply. Rejects with an `RpcError`
   * (UNAVAILABLE when no queue takes the service, RESOURCE_EXHAUSTED when the
   * queue refuses it), or with `signal.reason` once the signal aborts.
   */
  request(request: WireRequest, signal: AbortSignal): Promise<WireReply>;
  /** Declares the service queue and consumes it. */
  serve(service: string, options: ServeOptions, handler: DeliveryHandler): Promise<Consumer>;
  /** Closes every consumer and connection; pending requests reject. */
  close(): Promise<void>;
  /**
   * How many instances consume `service`'s queue right now, `undefined` when it cannot be told. Asked only to explain
   * a call that already failed (a deadline passed: was anybody serving?), never on the call path.
   */
  consumers?(service: string): Promise<number | undefined>;
  /** Events over the same connection (`createEventBus`), when the transport carries them. */
  readonly events?: EventTransport;
}
