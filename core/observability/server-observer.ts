/**
 * The server side of RPC observability. It wraps a service's delivery
 * handler (below the transport, above the dispatcher) rather than being an
 * interceptor, so it sees every request, also those refused before the
 * handler (UNIMPLEMENTED, ABORTED, INVALID_ARGUMENT, expired), and a server
 * without interceptors keeps the dispatcher's fast path.
 */
import { context, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import { Code } from '../protocol/code.js';
import { HEALTH_CHECK_PATH } from '../protocol/rpc-names.js';
import type { Delivery, DeliveryHandler, WireReply } from '../transport.js';
import { HEALTH_METHOD, OTHER_METHOD, type RpcSeries, type WarrenMetrics } from './metrics.js';
import { incomingParent, injectInto } from './propagation.js';
import { endRpcSpan, methodName, RPC_SYSTEM, tracingEnabled, warrenTracer } from './tracing.js';

/** Options of {@link observeDispatch}. */
export interface ObserveDispatchOptions {
  /** Default none. */
  readonly metrics: WarrenMetrics | undefined;
  /** SERVER spans (when an SDK is registered). */
  readonly tracing: boolean;
  /** True for the wire names (`package.Service/Method`) the service implements. */
  readonly isKnown: (method: string) => boolean;
  /** The server instance, on spans. */
  readonly instance: string;
}

/**
 * Wraps the delivery handler of `service`:
 *
 * * a SERVER span per request (health checks excepted), child of the
 *   caller's `traceparent`, active while the dispatcher and the handler run,
 *   and written into the request's metadata as its `traceparent` (so the
 *   handler's calls and publishes are its children, through the OTel
 *   context or through the handler context's inherited metadata); status
 *   ERROR only for server-fault codes;
 * * `warren_rpc_server_*`: calls by code, duration, in flight. A request
 *   dropped unanswered (expired, or still running at its deadline) counts as
 *   DEADLINE_EXCEEDED; one abandoned at shutdown (left for redelivery) as
 *   UNAVAILABLE. Unknown method names are labelled `_OTHER`.
 */
export function observeDispatch(
  service: string,
  handler: DeliveryHandler,
  options: ObserveDispatchOptions,
): DeliveryHandler {
  const { metrics, tracing, isKnown } = options;
  if (!metrics && !tracing) return handler;
  const series = new Map<string, RpcSeries>();
  const seriesOf = (method: string): RpcSeries => {
    let found = series.get(method);
    if (found === undefined) {
      const label = method === HEALTH_CHECK_PATH ? HEALTH_METHOD : isKnown(method) ? methodName(method) : OTHER_METHOD;
      found = metrics!.rpc('server', service, label);
      // unknown names share one series without growing the map
      if (label !== OTHER_METHOD) series.set(method, found);
    }
    return found;
  };

  return (delivery: Delivery): Promise<WireReply | null> => {
    const method = delivery.request.method;
    const observed = metrics ? seriesOf(method) : undefined;
    const traced =
      tracing && method !== HEALTH_CHECK_PATH && tracingEnabled()
        ? startServerSpan(service, delivery, isKnown(method), options.instance)
        : undefined;
    const span = traced?.span;
    if (observed === undefined && span === undefined) return handler(delivery);
    if (observed) observed.inFlight.value++;
    const started = observed ? performance.now() : 0;
    let outcome: Promise<WireReply | null>;
    try {
      outcome = traced
        ? context.with(traced.active, handler, undefined, withSpanMetadata(delivery, traced.active))
        : handler(delivery);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    // anonymous callbacks and a module-level finish(): no closure named per request (tsx names each one with defineProperty)
    return outcome.then(
      (reply) => {
        if (reply === null)
          finish(observed, span, started, Code.DEADLINE_EXCEEDED, 'no reply sent: the deadline passed');
        else finish(observed, span, started, reply.status, reply.message);
        return reply;
      },
      (error: unknown) => {
        finish(observed, span, started, Code.UNAVAILABLE, error instanceof Error ? error.message : 'abandoned');
        throw error;
      },
    );
  };
}

/**
 * The delivery with the SERVER span's context as its `traceparent`: the
 * handler's context (`ctx.metadata`, which Warren's AsyncLocalStorage
 * carries into every call and publish the handler makes) then names the
 * server span, so those are its children even where no OpenTelemetry
 * context manager carries the active span across `await`.
 */
function withSpanMetadata(delivery: Delivery, active: Context): Delivery {
  return { ...delivery, request: { ...delivery.request, metadata: injectInto(active, delivery.request.metadata) } };
}

function finish(
  observed: RpcSeries | undefined,
  span: Span | undefined,
  started: number,
  code: Code,
  message: string,
): void {
  if (observed) {
    observed.inFlight.value--;
    observed.duration.observe((performance.now() - started) / 1000);
    observed.count(code);
  }
  if (span) endRpcSpan(span, 'server', code, message);
}

function startServerSpan(
  service: string,
  delivery: Delivery,
  known: boolean,
  instance: string,
): { span: Span; active: Context } {
  const { request } = delivery;
  const name = known ? request.method : `${service}/${OTHER_METHOD}`;
  const parent = incomingParent(request.metadata);
  const span = warrenTracer().startSpan(
    name,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'rpc.system': RPC_SYSTEM,
        'rpc.service': service,
        'rpc.method': known ? methodName(request.method) : OTHER_METHOD,
        'warren.message_id': request.messageId,
        'warren.instance': instance,
        ...(delivery.redelivered ? { 'warren.redelivered': true } : {}),
      },
    },
    parent,
  );
  return { span, active: trace.setSpan(parent, span) };
}
