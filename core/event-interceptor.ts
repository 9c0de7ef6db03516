import type { Metadata } from './protocol/metadata.js';
import type { EventContext } from './event-context.js';

/** One event as interceptors see it, when published or when handled. */
export interface EventCall {
  readonly side: 'publish' | 'handle';
  /** Full proto name of the event. */
  readonly type: string;
  readonly messageId: string;
  /** The message (interceptors may replace it): decoded, or a `RawEvent` in a pattern subscription. */
  readonly message: unknown;
  /** Publish: what will be sent (interceptors may replace it, e.g. to add `traceparent`); handle: what arrived. */
  readonly metadata: Metadata;
  /** On the handling side, the handler's context. */
  readonly context?: EventContext | undefined;
}

/** The next layer of the onion. */
export type EventNext = (call: EventCall) => Promise<void>;

/**
 * Wraps publishing and handling of events, outermost first, like the RPC
 * `Interceptor` wraps calls: tracing, metrics and logging. Throwing on the
 * handling side fails the attempt (retry policy applies); on the publishing
 * side it rejects the publish.
 *
 * ```ts
 * const timing: EventInterceptor = (next) => async (call) => {
 *   const started = Date.now();
 *   try { await next(call); } finally { metrics.observe(call.side, call.type, Date.now() - started); }
 * };
 * ```
 */
export type EventInterceptor = (next: EventNext) => EventNext;

/** Builds the onion: `interceptors[0]` is outermost, `last` is the core. */
export function chainEventInterceptors(interceptors: readonly EventInterceptor[], last: EventNext): EventNext {
  let next = last;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next);
  return next;
}
