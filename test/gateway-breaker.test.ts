import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { startTestServer, type ChildScript } from './support/child-process.js';
import { call, startGatewayHarness, type GatewayHarness } from './support/gateway-harness.js';

const SERVICE = 'warren.test.v1.TestService';
const ECHO = `/rpc/${SERVICE}/Echo`;
const FAIL = `/rpc/${SERVICE}/Fail`;
const RESET_MS = 1500;

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

// The downstream TestService runs as a child process that the test kills by PID.
describe('gateway circuit breaker', () => {
  let h: GatewayHarness;
  let child: ChildScript | undefined;
  beforeAll(async () => {
    h = await startGatewayHarness('gw-breaker', {
      services: false,
      gateway: {
        breaker: {
          volumeThreshold: 4,
          errorThresholdPercentage: 50,
          resetTimeoutMs: RESET_MS,
          rollingWindowMs: 10_000,
        },
      },
    });
    child = await startTestServer(h.vhost.url, 'breaker-1');
  });
  afterAll(async () => {
    child?.kill();
    await h.close();
  });

  const metrics = async (): Promise<string> => (await fetch(`${h.base}/metrics`)).text();

  it('client errors never open it, however many', async () => {
    expect((await call(h.base, 'POST', ECHO, { body: '{}' })).status).toBe(200);
    for (let i = 0; i < 12; i++) {
      const code = [Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.PERMISSION_DENIED, Code.ALREADY_EXISTS][i % 4]!;
      expect(
        (await call(h.base, 'POST', FAIL, { body: JSON.stringify({ code, message: 'caller fault' }) })).status,
      ).toBeLessThan(500);
    }
    // Malformed requests never reach the breaker or the broker at all.
    for (let i = 0; i < 5; i++) expect((await call(h.base, 'POST', ECHO, { body: '{"number":"x"}' })).status).toBe(400);
    expect(h.gateway.breakerState(SERVICE)).toBe('closed');
    expect((await call(h.base, 'POST', ECHO, { body: '{}' })).status).toBe(200);
    expect(metric(await metrics(), 'warren_gateway_breaker_state', `service="${SERVICE}"`)).toBe(0);
  });

  it('opens after the service is killed, then answers 503 at once with Retry-After, publishing nothing', async () => {
    child!.kill('SIGKILL');
    await child!.exited;
    const statuses: number[] = [];
    // The 14 answered calls above are in the window too: it takes more than 14 failures to pass 50 %.
    for (let i = 0; i < 40 && h.gateway.breakerState(SERVICE) !== 'open'; i++) {
      statuses.push(
        (await call(h.base, 'POST', ECHO, { body: '{}', headers: { 'x-warren-timeout-ms': '200' } })).status,
      );
    }
    expect(h.gateway.breakerState(SERVICE)).toBe('open');
    expect(statuses.every((status) => status === 504)).toBe(true);
    expect(statuses.length).toBeGreaterThan(14);
    expect(
      h.logs.some(
        (entry) =>
          entry.level === 'warn' && entry.msg.includes('circuit breaker opened') && entry.fields['service'] === SERVICE,
      ),
    ).toBe(true);

    const published = h.published.length;
    const rpcCalls = metric(await metrics(), 'warren_gateway_rpc_calls_total', `code="DEADLINE_EXCEEDED"`);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await call(h.base, 'POST', ECHO, { body: '{}', headers: { 'x-warren-timeout-ms': '5000' } });
      times.push(res.ms);
      expect(res.status).toBe(503);
      expect(res.json.code).toBe(Code.UNAVAILABLE);
      expect(res.json.message).toContain('circuit breaker');
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(Math.ceil(RESET_MS / 1000));
    }
    // Fail-fast: nowhere near the 5 s the requests allowed (bounds generous for a loaded machine).
    times.sort((x, y) => x - y);
    expect(times[times.length - 1]).toBeLessThan(1000);
    expect(times[Math.floor(times.length / 2)]).toBeLessThan(200);
    expect(h.published.length).toBe(published);
    const text = await metrics();
    expect(metric(text, 'warren_gateway_rpc_calls_total', `code="DEADLINE_EXCEEDED"`)).toBe(rpcCalls);
    expect(metric(text, 'warren_gateway_breaker_state', `service="${SERVICE}"`)).toBe(2);
    expect(metric(text, 'warren_gateway_breaker_rejections_total', `service="${SERVICE}"`)).toBeGreaterThanOrEqual(20);
    expect(metric(text, 'warren_gateway_breaker_transitions_total', 'state="open"')).toBe(1);
  });

  it('half-open lets one trial through; a failed trial opens it again', async () => {
    await expect
      .poll(() => h.gateway.breakerState(SERVICE), { timeout: RESET_MS + 2000, interval: 50 })
      .toBe('half-open');
    const published = h.published.length;
    const trial = await call(h.base, 'POST', ECHO, { body: '{}', headers: { 'x-warren-timeout-ms': '200' } });
    expect(trial.status).toBe(504);
    expect(h.published.length).toBe(published + 1);
    expect(h.gateway.breakerState(SERVICE)).toBe('open');
    expect((await call(h.base, 'POST', ECHO, { body: '{}' })).status).toBe(503);
    expect(h.published.length).toBe(published + 1);
  });

  it('closes again once the service is back and a trial succeeds', async () => {
    child = await startTestServer(h.vhost.url, 'breaker-2');
    await expect
      .poll(() => h.gateway.breakerState(SERVICE), { timeout: RESET_MS + 2000, interval: 50 })
      .toBe('half-open');
    const trial = await call(h.base, 'POST', ECHO, { body: '{"text":"back"}' });
    expect(trial.status).toBe(200);
    expect(trial.json).toMatchObject({ text: 'back', instance: 'breaker-2' });
    expect(h.gateway.breakerState(SERVICE)).toBe('closed');
    for (let i = 0; i < 5; i++) expect((await call(h.base, 'POST', ECHO, { body: '{}' })).status).toBe(200);
    const text = await metrics();
    expect(metric(text, 'warren_gateway_breaker_state', `service="${SERVICE}"`)).toBe(0);
    expect(metric(text, 'warren_gateway_breaker_transitions_total', 'state="half-open"')).toBe(2);
    expect(metric(text, 'warren_gateway_breaker_transitions_total', 'state="closed"')).toBe(1);
    expect(h.logs.some((entry) => entry.msg.includes('circuit breaker closed'))).toBe(true);
  });
});
