import SwaggerParser from '@apidevtools/swagger-parser';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startGatewayHarness, type GatewayHarness } from './support/gateway-harness.js';
import { runScript } from './support/child-process.js';
import { createTestVhost } from './support/broker.js';

const SLEEP = '/rpc/warren.test.v1.TestService/Sleep';

/** The value of one sample in Prometheus text, or undefined. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

describe('gateway operations', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness('gw-ops');
  });
  afterAll(async () => {
    await h.close();
  });

  it('/healthz says the process is up', async () => {
    const res = await call(h.base, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('/metrics counts requests by route and status, RPCs by code, and shows latency and in-flight', async () => {
    await call(h.base, 'GET', '/v1/things/m-1');
    await call(h.base, 'GET', '/v1/things/missing');
    await call(h.base, 'GET', '/no/such/route');
    const slow = call(h.base, 'POST', SLEEP, { body: '{"millis":600}' });
    await expect
      .poll(async () => sample(await scrape(h.base), 'warren_gateway_http_in_flight_requests'), {
        timeout: 500,
        interval: 20,
      })
      .toBe(1);
    expect((await slow).status).toBe(200);
    const after = await scrape(h.base);
    expect(sample(after, 'warren_gateway_http_in_flight_requests')).toBe(0);
    expect(sample(after, 'warren_gateway_http_requests_total', { route: 'GET /v1/things/{id}', status: '200' })).toBe(
      1,
    );
    expect(sample(after, 'warren_gateway_http_requests_total', { route: 'GET /v1/things/{id}', status: '404' })).toBe(
      1,
    );
    expect(sample(after, 'warren_gateway_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(
      sample(after, 'warren_gateway_rpc_calls_total', { service: 'warren.test.v1.RestTestService', code: 'OK' }),
    ).toBe(1);
    expect(
      sample(after, 'warren_gateway_rpc_calls_total', { service: 'warren.test.v1.RestTestService', code: 'NOT_FOUND' }),
    ).toBe(1);
    expect(sample(after, 'warren_gateway_http_request_duration_seconds_count', { route: `POST ${SLEEP}` })).toBe(1);
    expect(
      sample(after, 'warren_gateway_http_request_duration_seconds_bucket', { route: `POST ${SLEEP}`, le: '0.25' }),
    ).toBe(0);
    expect(
      sample(after, 'warren_gateway_http_request_duration_seconds_bucket', { route: `POST ${SLEEP}`, le: '1' }),
    ).toBe(1);
    expect(sample(after, 'warren_gateway_breaker_state', { service: 'warren.test.v1.TestService' })).toBe(0);
    expect(sample(after, 'warren_gateway_broker_connected')).toBe(1);
    expect(sample(after, 'warren_gateway_process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('/openapi.json is a valid OpenAPI 3 document of every route', async () => {
    const res = await call(h.base, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    const document = res.json;
    await SwaggerParser.validate(structuredClone(document));
    // The validator does catch mistakes: a Swagger 2 style body parameter is refused in OpenAPI 3.
    const broken = structuredClone(document);
    broken.paths['/v1/things/{id}'].get.parameters.push({ in: 'body', name: 'thing', schema: { type: 'object' } });
    await expect(SwaggerParser.validate(broken)).rejects.toThrow();
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/things/{id}',
        '/v1/shelves/{shelf}/things',
        '/v1/things/{thing.id}:update',
        '/v1/things/{id}:cancel',
        '/v1/{name}',
        '/rpc/warren.test.v1.TestService/Echo',
        '/rpc/warren.test.v1.RestTestService/Ping',
        '/rpc/warren.health.v1.HealthService/Check',
      ]),
    );
    const list = document.paths['/v1/shelves/{shelf}/things'];
    const names = list.get.parameters.map((p: { name?: string; $ref?: string }) => p.name ?? p.$ref);
    expect(names).toEqual(
      expect.arrayContaining(['shelf', 'page_size', 'tags', 'filter.kind', 'filter.min_weight_grams', 'only_new']),
    );
    expect(list.post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/warren.test.v1.CreateThingRequest',
    });
    // PATCH /v1/things/{thing.id} shares its path item with GET /v1/things/{id} (OpenAPI forbids twin templates).
    const things = document.paths['/v1/things/{id}'];
    expect(Object.keys(things).sort()).toEqual(['delete', 'get', 'patch']);
    expect(things.patch.parameters[0]).toMatchObject({
      in: 'path',
      name: 'id',
      description: 'Sets request field thing.id.',
    });
    const thing = document.components.schemas['warren.test.v1.Thing'];
    expect(thing.properties.weightGrams).toMatchObject({ type: 'string', format: 'int64' });
    expect(thing.properties.createdAt).toMatchObject({ type: 'string', format: 'date-time' });
    expect(thing.properties.kind).toEqual({ $ref: '#/components/schemas/warren.test.v1.ThingKind' });
    expect(document.components.schemas['warren.test.v1.ThingKind'].enum).toEqual([
      'THING_KIND_UNSPECIFIED',
      'THING_KIND_BOOK',
      'THING_KIND_TOOL',
    ]);
    expect(document.paths['/v1/things/{id}'].get.description).toContain('GET with a path parameter');
  });

  it('/readyz and /metrics follow the broker connection: down → 503 and calls fail in time, back → 200', async () => {
    expect((await call(h.base, 'GET', '/readyz')).status).toBe(200);
    // Keep the transport from reconnecting while the connection is down.
    await h.setVhostAccess(false);
    try {
      await h.killGatewayConnection();
      await expect
        .poll(async () => (await call(h.base, 'GET', '/readyz')).status, { timeout: 5000, interval: 50 })
        .toBe(503);
      expect((await call(h.base, 'GET', '/readyz')).json).toEqual({
        status: 'not ready',
        reason: 'broker not connected',
      });
      expect(sample(await scrape(h.base), 'warren_gateway_broker_connected')).toBe(0);
      const res = await call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Echo', {
        body: '{}',
        headers: { 'x-warren-timeout-ms': '500' },
      });
      expect([503, 504]).toContain(res.status);
      expect([14, 4]).toContain(res.json.code);
      expect(res.ms).toBeLessThan(2000);
    } finally {
      await h.setVhostAccess(true);
    }
    await expect
      .poll(async () => (await call(h.base, 'GET', '/readyz')).status, { timeout: 15_000, interval: 100 })
      .toBe(200);
    expect(sample(await scrape(h.base), 'warren_gateway_broker_connected')).toBe(1);
    await expect
      .poll(async () => (await call(h.base, 'POST', '/rpc/warren.test.v1.TestService/Echo', { body: '{}' })).status, {
        timeout: 10_000,
        interval: 100,
      })
      .toBe(200);
  });
});

describe('gateway graceful shutdown', () => {
  it('drains in-flight requests, refuses new connections, then closes', async () => {
    const h = await startGatewayHarness('gw-drain');
    try {
      const slow = call(h.base, 'POST', SLEEP, { body: '{"millis":600}' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closed = h.gateway.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await expect(fetch(`${h.base}/healthz`)).rejects.toThrow();
      const answer = await slow;
      expect(answer.status).toBe(200);
      expect(answer.json.sleptMs).toBe(600);
      expect(answer.headers.get('connection')).toBe('close');
      await closed;
      expect(h.gateway.server.listening).toBe(false);
    } finally {
      await h.close();
    }
  });

  it('answers 503 to requests still running when the drain time is over', async () => {
    const h = await startGatewayHarness('gw-drain-cut', { gateway: { drainMs: 200 } });
    try {
      const slow = call(h.base, 'POST', SLEEP, { body: '{"millis":2500}' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = performance.now();
      await h.gateway.close();
      expect(performance.now() - started).toBeLessThan(2000);
      const answer = await slow;
      expect(answer.status).toBe(503);
      expect(answer.json.message).toContain('shutting down');
    } finally {
      await h.close();
    }
  });
});

describe('gateway/main.ts', () => {
  it('starts from PROTO_DIR / AMQP_URL / PORT, serves, and exits 0 on SIGTERM', async () => {
    const vhost = await createTestVhost('gw-main');
    const child = runScript(fileURLToPath(new URL('../gateway/main.ts', import.meta.url)), {
      AMQP_URL: vhost.url,
      PROTO_DIR: 'proto',
      PORT: '0',
      HOST: '127.0.0.1',
      WARREN_LOG_LEVEL: 'info',
      GATEWAY_EXPOSE: '*',
    });
    try {
      const line = await child.waitFor(/gateway listening/);
      const base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      expect((await call(base, 'GET', '/readyz')).status).toBe(200);
      const noService = await call(base, 'POST', '/rpc/warren.test.v1.TestService/Echo', {
        body: '{}',
        headers: { 'x-warren-timeout-ms': '2000' },
      });
      expect(noService.status).toBe(503);
      expect(noService.json.message).toContain('no queue is bound');
      child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    } finally {
      child.kill();
      await vhost.remove();
    }
  });
});
