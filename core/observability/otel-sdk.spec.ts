import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { startTracingFromEnv, tracingRequested } from './otel-sdk.js';
import { tracingEnabled } from './tracing.js';

describe('tracingRequested', () => {
  it('asks for traces only when an exporter or an OTLP endpoint is named, and never when the SDK is disabled', () => {
    expect(tracingRequested({})).toBeUndefined();
    expect(tracingRequested({ OTEL_SERVICE_NAME: 'orders' })).toBeUndefined();
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: ' ' })).toBeUndefined();
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe('OTEL_TRACES_EXPORTER=otlp');
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console, zipkin' })).toBe('OTEL_TRACES_EXPORTER=console,zipkin');
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' })).toBe('OTLP endpoint');
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://jaeger:4318/v1/traces' })).toBe(
      'OTLP endpoint',
    );
    // an explicit "none" wins over an endpoint set for other signals
    expect(
      tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' }),
    ).toBeUndefined();
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBeUndefined();
  });
});

describe('startTracingFromEnv', () => {
  afterAll(() => {
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('does nothing (and loads no SDK) when the environment does not ask', async () => {
    const tracing = await startTracingFromEnv({ env: {} });
    expect(tracing.enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    await tracing.shutdown();
  });

  it('starts the SDK: spans follow await, go out as W3C traceparent, and are exported over OTLP on shutdown', async () => {
    const bodies: string[] = [];
    const collector = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (request.url === '/v1/traces') bodies.push(body);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const lines: string[] = [];
    const logger = {
      debug() {},
      info: (_: object, msg?: string) => void lines.push(msg ?? ''),
      warn() {},
      error() {},
      child: () => logger,
    };
    // the SDK reads process.env itself
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    };
    Object.assign(process.env, env);
    const tracing = await startTracingFromEnv({ serviceName: 'spec', logger });
    try {
      expect(tracing.enabled).toBe(true);
      expect(tracingEnabled()).toBe(true);
      expect(lines).toContain('tracing on (OpenTelemetry SDK started)');
      const span = trace.getTracer('spec').startSpan('outer');
      const seen = await context.with(trace.setSpan(context.active(), span), async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        return { active: trace.getActiveSpan(), carrier };
      });
      span.end();
      expect(seen.active).toBe(span);
      expect(seen.carrier['traceparent']).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
      await tracing.shutdown();
      const exported = bodies.join('\n');
      expect(exported).toContain(span.spanContext().traceId);
      expect(exported).toContain('"name":"outer"');
      expect(exported).toMatch(/"key":"service.name","value":\{"stringValue":"spec"\}/);
    } finally {
      for (const key of Object.keys(env)) delete process.env[key];
      await tracing.shutdown();
      collector.close();
    }
  });
});
