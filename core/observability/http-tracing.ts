/**
 * The HTTP SERVER span of a request to an HTTP front (the gateway), so a
 * trace starts at the HTTP request and the RPCs it makes are its children.
 * It continues the `traceparent` the HTTP client sent, if any.
 */
import type { IncomingMessage } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { endSpan, tracingEnabled, warrenTracer } from './tracing.js';

/** Reads a header for the propagator (first value of a repeated one). */
const headerGetter = {
  keys: (carrier: IncomingMessage['headers']): string[] => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string): string | undefined => {
    const value = carrier[key];
    return Array.isArray(value) ? value[0] : value;
  },
};

/**
 * Runs `handle` (which resolves the HTTP status it answered) inside a SERVER
 * span `<METHOD> <route template>` (`route()` is read at the end: a template
 * such as `/v1/orders/{id}` or a gateway label `GET /v1/orders/{id}`, never
 * the raw path; just `<METHOD>` while unmatched). Attributes follow the HTTP conventions
 * (`http.request.method`, `http.route`, `http.response.status_code`,
 * `url.path`); status ERROR for 5xx answers and for a rejection. Without a
 * tracer provider it just runs `handle`.
 */
export function traceHttpServer(
  request: IncomingMessage,
  route: () => string,
  handle: () => Promise<number>,
): Promise<number> {
  if (!tracingEnabled()) return handle();
  const method = request.method ?? 'GET';
  const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
  const url = request.url ?? '/';
  const mark = url.indexOf('?');
  const span = warrenTracer().startSpan(
    method,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'url.path': mark < 0 ? url : url.slice(0, mark),
        'network.protocol.version': request.httpVersion,
      },
    },
    parent,
  );
  return context.with(trace.setSpan(parent, span), handle).then(
    (status) => {
      const template = routeTemplate(method, route());
      if (template !== undefined) {
        span.updateName(`${method} ${template}`);
        span.setAttribute('http.route', template);
      }
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
      span.end();
      return status;
    },
    (error: unknown) => {
      const template = routeTemplate(method, route());
      endSpan(span, error, template === undefined ? undefined : { 'http.route': template });
      throw error;
    },
  );
}

/** `POST /v1/orders` (a gateway route label) → `/v1/orders`; `unmatched` → none. */
function routeTemplate(method: string, label: string): string | undefined {
  if (label === '' || label === 'unmatched') return undefined;
  const space = label.indexOf(' ');
  return space > 0 && label.slice(0, space).toUpperCase() === method.toUpperCase()
    ? label.slice(space + 1)
    : label.startsWith('/')
      ? label
      : undefined;
}
