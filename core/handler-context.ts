import { AsyncLocalStorage } from 'node:async_hooks';
import type { MethodInfo } from './protocol/definition.js';
import type { Metadata } from './protocol/metadata.js';

/** The caller as the broker vouches for it. */
export interface CallerIdentity {
  /**
   * AMQP `user_id`, validated by RabbitMQ against the connection's user (on a
   * request this service re-queued itself, the original caller's: see
   * core/amqp/identity.ts). `undefined` when the request proves none.
   */
  readonly userId: string | undefined;
}

/**
 * What a handler knows about the call it serves. Calls a handler makes while
 * it runs inherit `deadline`, `signal` and `metadata` automatically (or pass
 * `{ parent: ctx }` explicitly).
 */
export interface HandlerContext {
  readonly method: MethodInfo;
  /** Metadata the caller sent. */
  readonly metadata: Metadata;
  /** Absolute deadline in ms since the epoch. */
  readonly deadline: number;
  /** Aborts when the deadline passes, the caller cancels or the server closes. */
  readonly signal: AbortSignal;
  readonly caller: CallerIdentity;
  /** The request's `message_id` (stable across retries of one logical call). */
  readonly messageId: string;
  /** The broker delivered this request before (another instance died with it). */
  readonly redelivered: boolean;
  /** Id of the server instance running the handler. */
  readonly instance: string;
  /** Milliseconds left before the deadline (never negative). */
  timeRemaining(): number;
  /** Metadata to send back with the reply (set keys on it). */
  readonly responseMetadata: Metadata;
}

const current = new AsyncLocalStorage<HandlerContext>();

/** Runs `fn` with `ctx` as the current handler context. */
export function runInContext<T>(ctx: HandlerContext, fn: () => T): T {
  return current.run(ctx, fn);
}

/** The handler context of the code running now, if inside a handler. */
export function currentContext(): HandlerContext | undefined {
  return current.getStore();
}
