import { describe, expect, it } from 'vitest';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_DELAYS_MS,
  describeFailure,
  failureOutcome,
  retryPolicy,
} from './redelivery-policy.js';

describe('retry policy', () => {
  const policy = retryPolicy({ maxAttempts: 5, retryDelaysMs: [100, 1000] });

  it('fills in defaults', () => {
    expect(retryPolicy({})).toEqual({ maxAttempts: DEFAULT_MAX_ATTEMPTS, retryDelaysMs: DEFAULT_RETRY_DELAYS_MS });
  });

  it('refuses nonsense', () => {
    for (const options of [
      { maxAttempts: 0 },
      { maxAttempts: 1.5 },
      { retryDelaysMs: [] },
      { retryDelaysMs: [0] },
      { retryDelaysMs: [10, 1e12] },
    ]) {
      expect(() => retryPolicy(options)).toThrow(RpcError);
    }
  });

  it('retries service faults with the delays in turn, the last repeating, then dead-letters', () => {
    const error = new Error('db down');
    expect(failureOutcome(error, 0, policy)).toEqual({
      kind: 'retry',
      delayMs: 100,
      attempts: 1,
      reason: '[INTERNAL] Error: db down',
    });
    expect(failureOutcome(error, 1, policy)).toMatchObject({ kind: 'retry', delayMs: 1000, attempts: 2 });
    expect(failureOutcome(error, 3, policy)).toMatchObject({ kind: 'retry', delayMs: 1000, attempts: 4 });
    expect(failureOutcome(error, 4, policy)).toEqual({
      kind: 'dead',
      attempts: 5,
      reason: '[INTERNAL] Error: db down',
    });
    expect(failureOutcome(new RpcError(Code.UNAVAILABLE, 'later'), 0, policy)).toMatchObject({
      kind: 'retry',
      reason: '[UNAVAILABLE] later',
    });
  });

  it('dead-letters at once what is not a service fault', () => {
    for (const code of [Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.FAILED_PRECONDITION, Code.PERMISSION_DENIED]) {
      expect(failureOutcome(new RpcError(code, 'bad event'), 0, policy)).toMatchObject({ kind: 'dead', attempts: 1 });
    }
  });

  it('bounds the reason', () => {
    expect(describeFailure(new Error('x'.repeat(5000))).length).toBe(1024);
    expect(describeFailure('thrown string')).toBe('[INTERNAL] thrown string');
  });
});
