/**
 * Warren's OpenTelemetry tracer and the conventions its spans follow. Spans
 * are made only while a tracer provider is registered (an SDK: see
 * `startTracingFromEnv`); without one every traced path takes one cheap
 * check and allocates nothing, and `traceparent` metadata passes through
 * untouched.
 */
import {
  ProxyTracerProvider,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { Code, codeName, SERVER_FAULT_CODES } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';

/** Instrumentation scope name of Warren's spans. */
export const TRACER_NAME = 'warren';

/** `rpc.system` of every RPC span: Warren's own protocol (over RabbitMQ, see PROTOCOL.md). */
export const RPC_SYSTEM = 'warren';
/** Attribute with the numeric Warren (gRPC-numbered) status code of an RPC span. */
export const STATUS_CODE_ATTRIBUTE = 'rpc.warren.status_code';

/** The delegate an unconfigured provider answers with (the API's no-op provider). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

let cachedTracer: Tracer | undefined;

/**
 * True while a real tracer provider is registered globally. The check is a
 * global lookup and a comparison, so the hot path asks it on every call and
 * tracing follows an SDK started (or stopped) at any time.
 */
export function tracingEnabled(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

/**
 * Warren's tracer. A proxy: it follows whichever provider is registered, so
 * caching it is safe.
 */
export function warrenTracer(): Tracer {
  cachedTracer ??= trace.getTracer(TRACER_NAME);
  return cachedTracer;
}

/** The code of anything a call failed with: its own for an `RpcError`, else UNKNOWN. */
export function codeOf(error: unknown): Code {
  return error instanceof RpcError ? error.code : Code.UNKNOWN;
}

/**
 * Ends an RPC span with its outcome. `side` decides what is an error:
 * on the client every non-OK code (the call failed for its caller), on the
 * server only {@link SERVER_FAULT_CODES} (the server's fault; a NOT_FOUND
 * or INVALID_ARGUMENT answer is the server working as it should).
 */
export function endRpcSpan(span: Span, side: 'client' | 'server', code: Code, message?: string): void {
  span.setAttribute(STATUS_CODE_ATTRIBUTE, code);
  if (code !== Code.OK) {
    span.setAttribute('error.type', codeName(code));
    if (side === 'client' || SERVER_FAULT_CODES.has(code)) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: message ? `${codeName(code)}: ${message}` : codeName(code),
      });
    }
  }
  span.end();
}

/** Ends a messaging or HTTP span: ERROR with the error's text when `error` is given; `attributes` last (they win). */
export function endSpan(span: Span, error?: unknown, attributes?: Attributes): void {
  if (error !== undefined) {
    const code = codeOf(error);
    span.setAttribute(
      'error.type',
      error instanceof RpcError ? codeName(code) : error instanceof Error ? error.name : 'Error',
    );
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof RpcError ? `${codeName(code)}: ${error.rawMessage}` : (errorText(error) ?? 'failed'),
    });
  }
  if (attributes) span.setAttributes(attributes);
  span.end();
}

/** The text of an error for a span: an `RpcError`'s own message (without the code prefix). */
export function errorText(error: unknown): string | undefined {
  if (error instanceof RpcError) return error.rawMessage;
  return error instanceof Error ? error.message : error === undefined ? undefined : String(error);
}

/** The method part of `package.Service/Method`. */
export function methodName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}
