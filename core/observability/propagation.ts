/**
 * Trace context in Warren metadata. RPC requests and events carry metadata
 * as AMQP headers (PROTOCOL.md §2.2, §8), so the W3C `traceparent` and
 * `tracestate` (or whatever `OTEL_PROPAGATORS` picks) travel there. The
 * globally registered propagator reads and writes them; an SDK registers
 * W3C trace context and baggage by default.
 */
import { context, propagation, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import type { Metadata } from '../protocol/metadata.js';
import { tracingEnabled } from './tracing.js';

/**
 * The parent of an outgoing call or publish: the span active now (a
 * handler's server span, the gateway's HTTP span, the caller's own span), or
 * failing that the trace context in the outgoing metadata (inherited from a
 * handler when no context manager carries spans across `await`, or set by
 * the caller).
 */
export function outgoingParent(metadata: Metadata): Context {
  const active = context.active();
  return trace.getSpan(active) === undefined ? propagation.extract(active, metadata) : active;
}

/** The remote parent an incoming request or event names in its metadata (root when none). */
export function incomingParent(metadata: Metadata): Context {
  return propagation.extract(ROOT_CONTEXT, metadata);
}

/** A copy of `metadata` with the trace context of `ctx` written in (replacing any it had). */
export function injectInto(ctx: Context, metadata: Metadata): Metadata {
  const out: Metadata = { ...metadata };
  propagation.inject(ctx, out);
  return out;
}

/**
 * `metadata` with the trace context active now written in, for work that
 * leaves the current call and resumes later, e.g. an outbox row published
 * after the transaction. Without tracing (no SDK) it returns `metadata`
 * unchanged.
 */
export function withActiveTraceContext(metadata: Metadata): Metadata {
  if (!tracingEnabled() || trace.getSpan(context.active()) === undefined) return metadata;
  return injectInto(context.active(), metadata);
}

/**
 * Runs `fn` with the trace context saved in `metadata` (by
 * {@link withActiveTraceContext}) as the active context, so spans started
 * inside (a publish, a call) continue that trace instead of the one that
 * happens to be active. Without tracing it just runs `fn`.
 */
export function runInTraceContextOf<T>(metadata: Metadata, fn: () => T): T {
  if (!tracingEnabled()) return fn();
  return context.with(incomingParent(metadata), fn);
}
