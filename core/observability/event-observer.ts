/**
 * Tracing and metrics of events: a PRODUCER span per publish whose context
 * goes out in the event's metadata (AMQP headers), a CONSUMER span per
 * delivery attempt as its child, and the `warren_events_*` metrics.
 */
import { context, SpanKind, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { Code } from '../protocol/code.js';
import type { EventInterceptor } from '../event-interceptor.js';
import type { EventDelivery, EventDeliveryHandler, EventOutcome } from '../event-transport.js';
import { EVENTS_EXCHANGE } from '../protocol/event-names.js';
import type { HandleSeries, WarrenMetrics } from './metrics.js';
import { incomingParent, injectInto, outgoingParent } from './propagation.js';
import { codeOf, endSpan, tracingEnabled, warrenTracer } from './tracing.js';

/** `messaging.system` of event spans. */
export const MESSAGING_SYSTEM = 'rabbitmq';

/**
 * A PRODUCER span `publish <type>` around each publish, following the
 * messaging semantic conventions (`messaging.system` rabbitmq, destination =
 * the `warren.events` exchange, routing key = the event type): child of the
 * active span (else of the metadata's `traceparent`); its context replaces
 * the outgoing `traceparent`/`tracestate`. ERROR when the publish fails.
 * (The CONSUMER side is {@link observeDeliveries}: it wraps the whole
 * delivery, so decoding failures and the bus's own log lines are in it.)
 */
export function publishTracingInterceptor(): EventInterceptor {
  return (next) => (call) => {
    if (call.side !== 'publish' || !tracingEnabled()) return next(call);
    const parent = outgoingParent(call.metadata);
    const span: Span = warrenTracer().startSpan(
      `publish ${call.type}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': MESSAGING_SYSTEM,
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'publish',
          'messaging.destination.name': EVENTS_EXCHANGE,
          'messaging.rabbitmq.destination.routing_key': call.type,
          'messaging.message.id': call.messageId,
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    return context.with(active, next, undefined, { ...call, metadata: injectInto(active, call.metadata) }).then(
      () => endSpan(span),
      (error: unknown) => {
        endSpan(span, error);
        throw error;
      },
    );
  };
}

/** Counts and times publishes by type and outcome code. */
export function publishMetricsInterceptor(metrics: WarrenMetrics): EventInterceptor {
  return (next) => (call) => {
    if (call.side !== 'publish') return next(call);
    const series = metrics.published(call.type);
    const started = performance.now();
    return next(call).then(
      () => {
        series.duration.observe((performance.now() - started) / 1000);
        series.count(Code.OK);
      },
      (error: unknown) => {
        series.duration.observe((performance.now() - started) / 1000);
        series.count(codeOf(error));
        throw error;
      },
    );
  };
}

/** The event interceptors a bus puts before its own (publishing side): tracing outermost, then metrics. */
export function eventObservability(metrics: WarrenMetrics | undefined, tracing: boolean): EventInterceptor[] {
  const interceptors: EventInterceptor[] = [];
  if (tracing) interceptors.push(publishTracingInterceptor());
  if (metrics) interceptors.push(publishMetricsInterceptor(metrics));
  return interceptors;
}

/**
 * Wraps a group's delivery handler (the bus's whole handling of one
 * delivery: decoding, the handler in its interceptors, the failure log):
 *
 * * a CONSUMER span `process <type>` per attempt, child of the publisher's
 *   span (from the event's metadata), active throughout, so the handler's
 *   calls and publishes are its children and the bus's log lines carry its
 *   trace id; ERROR when the attempt failed (retry or dead-letter), with
 *   the reason;
 * * `warren_events_handled_total` by the bus's decision (`ack`, `retry`,
 *   `dead` = dead-lettered), the handler duration and deliveries in flight.
 *
 * A handler that rejects (it should not) counts as dead: the transport
 * dead-letters it.
 */
export function observeDeliveries(
  group: string,
  handler: EventDeliveryHandler,
  options: { readonly metrics: WarrenMetrics | undefined; readonly tracing: boolean },
): EventDeliveryHandler {
  const { metrics, tracing } = options;
  if (!metrics && !tracing) return handler;
  const seriesByType = new Map<string, HandleSeries>();
  const seriesOf = (type: string): HandleSeries => {
    let found = seriesByType.get(type);
    if (found === undefined) {
      found = metrics!.handled(group, type);
      seriesByType.set(type, found);
    }
    return found;
  };
  return (delivery) => {
    const { event } = delivery;
    const series = metrics ? seriesOf(event.type) : undefined;
    const span = tracing && tracingEnabled() ? startConsumerSpan(group, delivery) : undefined;
    if (series) series.inFlight.value++;
    const started = series ? performance.now() : 0;
    let pending: Promise<EventOutcome>;
    try {
      // the handler's EventContext metadata names the CONSUMER span, so what it calls and publishes is its child
      pending = span
        ? context.with(span.active, handler, undefined, {
            ...delivery,
            event: { ...delivery.event, metadata: injectInto(span.active, delivery.event.metadata) },
          })
        : handler(delivery);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (outcome) => {
        delivered(series, span?.span, started, outcome);
        return outcome;
      },
      (error: unknown) => {
        delivered(series, span?.span, started, undefined, error);
        throw error;
      },
    );
  };
}

/** Records one delivery's end (a module-level function: no closure made per delivery). */
function delivered(
  series: HandleSeries | undefined,
  span: Span | undefined,
  started: number,
  outcome: EventOutcome | undefined,
  error?: unknown,
): void {
  const kind = outcome?.kind ?? 'dead';
  if (series) {
    series.inFlight.value--;
    series.duration.observe((performance.now() - started) / 1000);
    series.count(kind);
  }
  if (span) {
    span.setAttribute('warren.outcome', kind);
    if (outcome?.kind === 'ack') endSpan(span);
    else endSpan(span, error ?? new Error(outcome === undefined ? 'failed' : outcome.reason), errorTypeOf(outcome));
  }
}

function startConsumerSpan(group: string, delivery: EventDelivery): { span: Span; active: Context } {
  const { event } = delivery;
  const parent = incomingParent(event.metadata);
  const span = warrenTracer().startSpan(
    `process ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': MESSAGING_SYSTEM,
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': EVENTS_EXCHANGE,
        'messaging.rabbitmq.destination.routing_key': event.type,
        'messaging.message.id': event.messageId,
        'messaging.consumer.group.name': group,
        'messaging.destination.subscription.name': delivery.queue,
        'warren.publisher': event.publisher,
        'warren.attempt': delivery.attempts + 1,
        ...(delivery.redelivered ? { 'warren.redelivered': true } : {}),
      },
    },
    parent,
  );
  return { span, active: trace.setSpan(parent, span) };
}

/** `error.type` of a failed attempt: the code at the start of the bus's reason (`[INVALID_ARGUMENT] …`). */
function errorTypeOf(outcome: EventOutcome | undefined): Attributes | undefined {
  if (outcome === undefined || outcome.kind === 'ack') return undefined;
  const code = /^\[([A-Z_]+)\]/.exec(outcome.reason)?.[1];
  return code === undefined ? undefined : { 'error.type': code };
}
