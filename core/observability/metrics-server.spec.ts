import { createServer } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Code } from '../protocol/code.js';
import { createMetricsServer, startMetricsFromEnv } from './metrics-server.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

describe('metrics server', () => {
  afterEach(() => {
    delete process.env['WARREN_METRICS_PORT'];
    delete process.env['WARREN_METRICS_HOST'];
  });

  it('serves the registry at GET /metrics with process metrics, and nothing else', async () => {
    const registry = new Registry();
    new Counter({ name: 'spec_things_total', help: 'things', registers: [registry] }).inc(3);
    const server = await createMetricsServer({ port: 0, host: '127.0.0.1', registry, logger: silent });
    try {
      const response = await fetch(server.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(registry.contentType);
      const samples = parsePrometheusText(await response.text());
      expect(sampleValue(samples, 'spec_things_total')).toBe(3);
      expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
      expect((await fetch(server.url.replace('/metrics', '/'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('starts from WARREN_METRICS_PORT only when it is set, and refuses a malformed one', async () => {
    expect(await startMetricsFromEnv({ registry: new Registry(), logger: silent })).toBeUndefined();
    process.env['WARREN_METRICS_PORT'] = 'ninety';
    await expect(startMetricsFromEnv({ registry: new Registry(), logger: silent })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
    });
    process.env['WARREN_METRICS_PORT'] = '0';
    process.env['WARREN_METRICS_HOST'] = '127.0.0.1';
    const server = await startMetricsFromEnv({ registry: new Registry(), logger: silent });
    expect(server?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    await server?.close();
  });

  it('goes on without an endpoint (logging why) when the port is taken', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    const errors: string[] = [];
    const logger = { ...silent, error: (_: object, msg?: string) => void errors.push(msg ?? ''), child: () => logger };
    process.env['WARREN_METRICS_PORT'] = String(port);
    process.env['WARREN_METRICS_HOST'] = '127.0.0.1';
    try {
      expect(await startMetricsFromEnv({ registry: new Registry(), logger })).toBeUndefined();
      expect(errors).toEqual(['metrics endpoint could not start; going on without it']);
    } finally {
      squatter.close();
    }
  });
});
