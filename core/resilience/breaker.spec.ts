import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Code } from '../protocol/code.js';
import { retryDelayOf } from '../protocol/retry-info.js';
import { RpcError } from '../protocol/rpc-error.js';
import { breakerStates, createBreaker, createBreakerRegistry, type BreakerState } from './breaker.js';

const quiet = pino({ level: 'silent' });
const fail = (code: Code) => () => Promise.reject(new RpcError(code, 'no'));

describe('createBreaker', () => {
  it('opens on service faults and then fails fast with UNAVAILABLE and a RetryInfo of the time left open', async () => {
    const changes: [string, BreakerState, boolean][] = [];
    const breaker = createBreaker(
      'payments',
      { volumeThreshold: 2, resetTimeoutMs: 5_000, metrics: false, onStateChange: (...change) => changes.push(change) },
      quiet,
    );
    try {
      for (let i = 0; i < 2; i++)
        await expect(breaker.run(fail(Code.UNAVAILABLE))).rejects.toMatchObject({ code: Code.UNAVAILABLE });
      expect(breaker.state).toBe('open');
      let ran = false;
      const refused = await breaker.run(async () => (ran = true)).catch((error: unknown) => error as RpcError);
      expect(ran).toBe(false);
      expect(refused).toBeInstanceOf(RpcError);
      expect((refused as RpcError).code).toBe(Code.UNAVAILABLE);
      expect((refused as RpcError).rawMessage).toMatch(/circuit breaker for payments is open/);
      expect(retryDelayOf(refused as RpcError)).toBe(5_000);
      expect(changes).toEqual([
        ['payments', 'closed', false],
        ['payments', 'open', true],
      ]);
    } finally {
      breaker.shutdown();
    }
  });

  it("never counts the caller's own faults or a cancelled call", async () => {
    const breaker = createBreaker('inventory', { volumeThreshold: 2, metrics: false }, quiet);
    try {
      for (const code of [
        Code.INVALID_ARGUMENT,
        Code.NOT_FOUND,
        Code.PERMISSION_DENIED,
        Code.FAILED_PRECONDITION,
        Code.CANCELLED,
        Code.INVALID_ARGUMENT,
      ]) {
        await expect(breaker.run(fail(code))).rejects.toMatchObject({ code });
      }
      expect(breaker.state).toBe('closed');
    } finally {
      breaker.shutdown();
    }
  });

  it('lists live breakers for mesh reports until they are shut down', () => {
    const breaker = createBreaker('listed', { metrics: false }, quiet);
    expect(breakerStates()).toContainEqual(['listed', 'closed']);
    breaker.shutdown();
    expect(breakerStates().some(([name]) => name === 'listed')).toBe(false);
  });
});

describe('createBreakerRegistry', () => {
  it('keeps one breaker per name, sharing the options', async () => {
    const registry = createBreakerRegistry({ volumeThreshold: 1, metrics: false }, quiet);
    try {
      expect(registry.get('a')).toBe(registry.get('a'));
      await registry
        .get('a')
        .run(fail(Code.INTERNAL))
        .catch(() => undefined);
      await registry.get('b').run(() => Promise.resolve(1));
      expect(registry.states()).toEqual(
        new Map([
          ['a', 'open'],
          ['b', 'closed'],
        ]),
      );
    } finally {
      registry.shutdown();
    }
  });
});
