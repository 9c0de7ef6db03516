/**
 * Correlation fields on log lines: a pino `mixin` that adds, to every line
 * written while they are known,
 *
 * * `trace_id`, `span_id`: the active span (the OpenTelemetry log-correlation
 *   field names), so a log line leads to its trace and back;
 * * `requestId`: the `request-id` metadata of the RPC or event being handled
 *   (the gateway sets it from `x-request-id`), so one request's lines can be
 *   found in every service, with tracing on or off.
 *
 * Warren's loggers (`createLogger`, `defaultLogger`) use it; pass it to your
 * own pino logger as `pino({ mixin: logContextFields })`.
 */
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { currentEvent } from '../event-context.js';
import { currentContext } from '../handler-context.js';
import { REQUEST_ID_METADATA_KEY } from '../protocol/headers.js';

/**
 * The correlation fields known now (`{}` outside handlers and spans). A
 * fresh object every time: pino merges the line's own fields into what a
 * mixin returns (the line's own win).
 */
export function logContextFields(): Record<string, string> {
  const fields: Record<string, string> = {};
  const span = trace.getSpan(context.active());
  if (span !== undefined) {
    const spanContext = span.spanContext();
    if (isSpanContextValid(spanContext)) {
      fields['trace_id'] = spanContext.traceId;
      fields['span_id'] = spanContext.spanId;
    }
  }
  const requestId = (currentContext() ?? currentEvent())?.metadata[REQUEST_ID_METADATA_KEY];
  if (requestId !== undefined) fields['requestId'] = requestId;
  return fields;
}
