import { describe, expect, it } from 'vitest';
import { Code } from 'warren';
import { createProvider, DECLINED_TOKEN } from './provider.js';

describe('simulated card provider', () => {
  const signal = new AbortController().signal;

  it('declines the test token and accepts others', async () => {
    const provider = createProvider();
    expect((await provider.authorize('tok_visa', signal)).declineReason).toBeUndefined();
    expect((await provider.authorize(DECLINED_TOKEN, signal)).declineReason).toContain(DECLINED_TOKEN);
  });

  it('fails the configured share of calls with UNAVAILABLE', async () => {
    const draws = [0.1, 0.9];
    const provider = createProvider({ failureRate: 0.5, random: () => draws.shift() ?? 0 });
    await expect(provider.call(signal)).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    await expect(provider.call(signal)).resolves.toBeUndefined();
  });

  it('waits its latency, and stops waiting when the call is cancelled', async () => {
    const provider = createProvider({ latencyMs: [60, 60] });
    const started = performance.now();
    await provider.call(signal);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    const controller = new AbortController();
    const cancelled = provider.call(controller.signal);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: Code.CANCELLED });
  });
});
