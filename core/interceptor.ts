import type { MethodInfo } from './protocol/definition.js';
import type { HandlerContext } from './handler-context.js';
import type { Metadata } from './protocol/metadata.js';

/** One unary call as interceptors see it, on either side. */
export interface UnaryCall {
  readonly side: 'client' | 'server';
  readonly method: MethodInfo;
  /** The decoded request message (interceptors may replace it). */
  readonly request: unknown;
  /** Request metadata (client: outgoing, server: received). */
  readonly metadata: Metadata;
  /** Absolute deadline in ms since the epoch. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  /** On the server, the handler's context. */
  readonly context?: HandlerContext | undefined;
}

/** What a call produced. */
export interface UnaryResult {
  readonly response: unknown;
  /** Response metadata (trailers). */
  readonly metadata: Metadata;
}

/** The next layer of the onion. */
export type UnaryNext = (call: UnaryCall) => Promise<UnaryResult>;

/**
 * Wraps calls on the client or the server, outermost first: logging, metrics,
 * auth and tracing are interceptors. Throw an `RpcError` to refuse a call.
 *
 * ```ts
 * const log: Interceptor = (next) => async (call) => {
 *   const started = Date.now();
 *   try { return await next(call); } finally { console.log(call.method.path, Date.now() - started); }
 * };
 * ```
 */
export type Interceptor = (next: UnaryNext) => UnaryNext;

/** Builds the onion: `interceptors[0]` is outermost, `last` is the core. */
export function chainInterceptors(interceptors: readonly Interceptor[], last: UnaryNext): UnaryNext {
  let next = last;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next);
  return next;
}
