import type { WarrenMetrics } from './metrics.js';

/**
 * The built-in observability switches that `createClient`, `createServer`
 * and `createEventBus` share. Both are on by default; tracing costs nothing
 * until an OpenTelemetry SDK is registered.
 */
export interface ObservabilityOptions {
  /** Where metrics go; `false` records none. Default the process's `defaultMetrics()` (prom-client's default registry). */
  readonly metrics?: WarrenMetrics | false;
  /** Spans, whenever an OpenTelemetry SDK is registered. Default true. */
  readonly tracing?: boolean;
}
