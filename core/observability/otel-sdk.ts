/**
 * Turns tracing on from the standard OpenTelemetry environment variables, for
 * a process's main entry point. Warren only uses `@opentelemetry/api`, which
 * does nothing until an SDK registers a tracer provider; this starts the
 * Node SDK (loaded only then) when the environment asks for traces.
 */
import { defaultLogger, redactUrl, type Logger } from './logger.js';

/** Options of {@link startTracingFromEnv}. */
export interface TracingFromEnvOptions {
  /** `service.name` when `OTEL_SERVICE_NAME` is unset (e.g. `orders`). Default the SDK's (`unknown_service:node`). */
  readonly serviceName?: string;
  /** Default: the process logger. */
  readonly logger?: Logger;
  /** Where the variables are read (the SDK itself reads `process.env`). Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** What {@link startTracingFromEnv} started. */
export interface Tracing {
  /** True when an SDK was started. */
  readonly enabled: boolean;
  /** Exports the spans still buffered and stops the SDK (call before exiting). Nothing to do when disabled. */
  shutdown(): Promise<void>;
}

/**
 * Why tracing is on, or `undefined` when the environment does not ask for
 * it: `OTEL_TRACES_EXPORTER` set to anything but `none`, or an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`);
 * never when `OTEL_SDK_DISABLED=true`.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporters = value('OTEL_TRACES_EXPORTER');
  if (exporters !== undefined) {
    const list = exporters
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    return list.length === 0 || list.every((name) => name === 'none')
      ? undefined
      : `OTEL_TRACES_EXPORTER=${list.join(',')}`;
  }
  const endpoint = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? value('OTEL_EXPORTER_OTLP_ENDPOINT');
  return endpoint === undefined ? undefined : 'OTLP endpoint';
}

/**
 * The OpenTelemetry Node SDK, an optional peer dependency of warren (only processes that export traces need it):
 * a clear error naming the package and why it was wanted when it is not installed.
 */
async function loadNodeSdk(reason: string): Promise<typeof import('@opentelemetry/sdk-node')> {
  try {
    return await import('@opentelemetry/sdk-node');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      `tracing was requested (${reason}) but @opentelemetry/sdk-node is not installed: npm install @opentelemetry/sdk-node, or unset the OTEL_* variables`,
      { cause: error },
    );
  }
}

const DISABLED: Tracing = { enabled: false, shutdown: async () => undefined };

/**
 * Starts the OpenTelemetry Node SDK when the environment asks for traces (see
 * {@link tracingRequested}); otherwise does nothing and loads nothing. The
 * SDK then reads every standard variable itself: `OTEL_TRACES_EXPORTER`
 * (`otlp` default, `console`, `zipkin`), `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` default, `http/json`,
 * `grpc`), `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_PROPAGATORS` (W3C trace context and
 * baggage by default), `OTEL_BSP_*`. It registers the AsyncLocalStorage
 * context manager, so spans follow `await`.
 *
 * Only traces: Warren's metrics are Prometheus (`/metrics`) and its logs
 * pino lines, so OTel metric and log exporters start only when
 * `OTEL_METRICS_EXPORTER` / `OTEL_LOGS_EXPORTER` ask for them explicitly.
 */
export async function startTracingFromEnv(options: TracingFromEnvOptions = {}): Promise<Tracing> {
  const env = options.env ?? process.env;
  const reason = tracingRequested(env);
  if (reason === undefined) return DISABLED;
  const logger = options.logger ?? defaultLogger();
  const { NodeSDK } = await loadNodeSdk(reason);
  const serviceName = env['OTEL_SERVICE_NAME']?.trim() || options.serviceName;
  const sdk = new NodeSDK({
    ...(env['OTEL_SERVICE_NAME']?.trim() || options.serviceName === undefined
      ? {}
      : { serviceName: options.serviceName }),
    ...(env['OTEL_METRICS_EXPORTER']?.trim() ? {} : { metricReaders: [] }),
    ...(env['OTEL_LOGS_EXPORTER']?.trim() ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  logger.info(
    {
      reason,
      serviceName,
      exporter: env['OTEL_TRACES_EXPORTER'] ?? 'otlp',
      ...(endpoint ? { endpoint: redactUrl(endpoint) } : {}),
    },
    'tracing on (OpenTelemetry SDK started)',
  );
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown() {
      stopping ??= sdk
        .shutdown()
        .catch((error: unknown) => logger.warn({ err: error }, 'tracing shutdown failed; some spans may be lost'));
      return stopping;
    },
  };
}
