/**
 * The client side of RPC observability, as interceptors every client (and
 * the gateway) puts outermost: a CLIENT span per call whose context goes out
 * as `traceparent`, and the client metrics.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { Code } from '../protocol/code.js';
import type { MethodInfo } from '../protocol/definition.js';
import type { Interceptor, UnaryResult } from '../interceptor.js';
import type { RpcError } from '../protocol/rpc-error.js';
import type { RpcSeries, WarrenMetrics } from './metrics.js';
import { injectInto, outgoingParent } from './propagation.js';
import { codeOf, endRpcSpan, errorText, RPC_SYSTEM, tracingEnabled, warrenTracer } from './tracing.js';

/**
 * A CLIENT span around each call, named `package.Service/Method`, child of
 * the span active now (else of the `traceparent` in the call's metadata);
 * its context replaces the call's `traceparent`/`tracestate`, so the server
 * span is its child. Status ERROR on any non-OK outcome. Without a tracer
 * provider it passes calls straight on.
 */
export function clientTracingInterceptor(): Interceptor {
  return (next) => (call) => {
    if (!tracingEnabled()) return next(call);
    const parent = outgoingParent(call.metadata);
    const span = warrenTracer().startSpan(
      call.method.path,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'rpc.system': RPC_SYSTEM,
          'rpc.service': call.method.service,
          'rpc.method': call.method.name,
          'warren.idempotency': call.method.idempotency,
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    const traced = { ...call, metadata: injectInto(active, call.metadata) };
    return context.with(active, next, undefined, traced).then(
      (result: UnaryResult) => {
        endRpcSpan(span, 'client', Code.OK);
        return result;
      },
      (error: unknown) => {
        endRpcSpan(span, 'client', codeOf(error), errorText(error));
        throw error;
      },
    );
  };
}

/**
 * Counts calls by code, times them and tracks those in flight. Series are
 * cached per method, so a call costs a map lookup and a few additions.
 */
export function clientMetricsInterceptor(metrics: WarrenMetrics): Interceptor {
  const series = new WeakMap<MethodInfo, RpcSeries>();
  return (next) => (call) => {
    let mine = series.get(call.method);
    if (mine === undefined) {
      mine = metrics.rpc('client', call.method.service, call.method.name);
      series.set(call.method, mine);
    }
    const observed = mine;
    observed.inFlight.value++;
    const started = performance.now();
    return next(call).then(
      (result) => {
        observed.inFlight.value--;
        observed.duration.observe((performance.now() - started) / 1000);
        observed.count(Code.OK);
        return result;
      },
      (error: unknown) => {
        observed.inFlight.value--;
        observed.duration.observe((performance.now() - started) / 1000);
        observed.count(codeOf(error));
        throw error;
      },
    );
  };
}

/** The interceptors a client puts before its own: tracing outermost, then metrics. */
export function clientObservability(metrics: WarrenMetrics | undefined, tracing: boolean): Interceptor[] {
  const interceptors: Interceptor[] = [];
  if (tracing) interceptors.push(clientTracingInterceptor());
  if (metrics) interceptors.push(clientMetricsInterceptor(metrics));
  return interceptors;
}

/**
 * Wraps a client's `onRetry`: counts the retry and notes it on the call's
 * span (the CLIENT span is active while the call runs), then tells `user`.
 */
export function observeRetries(
  metrics: WarrenMetrics | undefined,
  user: ((method: MethodInfo, attempt: number, error: RpcError) => void) | undefined,
): (method: MethodInfo, attempt: number, error: RpcError) => void {
  return (method, attempt, error) => {
    metrics?.retried(method.service, method.name, error.code);
    if (tracingEnabled())
      trace.getActiveSpan()?.addEvent('retry', { 'warren.attempt': attempt, 'error.type': error.codeName });
    user?.(method, attempt, error);
  };
}
