import { describe, expect, it } from 'vitest';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { testService } from '../testing/test-service.js';
import { createClient } from './client.js';
import { Code } from '../protocol/code.js';
import { createMemoryTransport } from '../memory/memory-transport.js';
import { markConnectionLoss, RetryThrottle, withRetries } from './retry-policy.js';
import { RpcError } from '../protocol/rpc-error.js';
import { createServer } from './server.js';
import { describeService } from '../protocol/definition.js';

const [echo, , , increment] = describeService(TestServiceDefinition);
const policy = {
  maxAttempts: 3,
  initialBackoffMs: 1,
  maxBackoffMs: 5,
  multiplier: 2,
  retryableCodes: [Code.UNAVAILABLE],
};

async function attempts(method = echo!, error: RpcError, throttle = new RetryThrottle()): Promise<number> {
  let count = 0;
  await withRetries(method, policy, throttle, Date.now() + 5000, new AbortController().signal, async () => {
    count++;
    throw error;
  }).catch(() => undefined);
  return count;
}

describe('retries', () => {
  it('retries idempotent methods on retryable codes up to maxAttempts', async () => {
    expect(await attempts(echo, new RpcError(Code.UNAVAILABLE, 'down'))).toBe(3);
  });

  it('never retries caller faults or non-idempotent methods', async () => {
    expect(await attempts(echo, new RpcError(Code.INVALID_ARGUMENT, 'bad'))).toBe(1);
    expect(await attempts(echo, new RpcError(Code.NOT_FOUND, 'no'))).toBe(1);
    expect(await attempts(increment, new RpcError(Code.UNAVAILABLE, 'down'))).toBe(1);
  });

  it('stops retrying once the budget is half spent, and refills on success', async () => {
    const throttle = new RetryThrottle({ maxTokens: 4, tokenRatio: 1 });
    expect(await attempts(echo, new RpcError(Code.UNAVAILABLE, 'down'), throttle)).toBe(2);
    expect(await attempts(echo, new RpcError(Code.UNAVAILABLE, 'down'), throttle)).toBe(1);
    throttle.onSuccess();
    throttle.onSuccess();
    expect(throttle.allows()).toBe(true);
  });

  it('retries connection losses without spending the budget', async () => {
    const throttle = new RetryThrottle({ maxTokens: 2 });
    for (let i = 0; i < 5; i++)
      expect(await attempts(echo, markConnectionLoss(new RpcError(Code.UNAVAILABLE, 'lost')), throttle)).toBe(3);
    expect(throttle.allows()).toBe(true);
  });

  it('does not sleep past the deadline', async () => {
    let count = 0;
    const slow = { ...policy, initialBackoffMs: 10_000, maxBackoffMs: 10_000 };
    const started = Date.now();
    await withRetries(echo!, slow, new RetryThrottle(), Date.now() + 50, new AbortController().signal, async () => {
      count++;
      throw new RpcError(Code.UNAVAILABLE, 'down');
    }).catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(count).toBeGreaterThanOrEqual(1);
  });

  it('retries end to end through a client: a handler answering UNAVAILABLE runs maxAttempts times', async () => {
    const transport = createMemoryTransport();
    const { implementation, ledger } = testService('retry');
    await createServer({ transport }).add(TestServiceDefinition, implementation).start();
    const retried: number[] = [];
    const client = createClient(TestServiceDefinition, transport, {
      retry: { initialBackoffMs: 1 },
      onRetry: (_m, attempt) => retried.push(attempt),
    });
    await expect(client.fail({ code: Code.UNAVAILABLE, message: 'busy' })).rejects.toMatchObject({
      code: Code.UNAVAILABLE,
    });
    expect(ledger.started.filter((s) => s.method === 'fail')).toHaveLength(3);
    expect(retried).toEqual([2, 3]);
    const noRetry = createClient(TestServiceDefinition, transport, { retry: false });
    await expect(noRetry.fail({ code: Code.UNAVAILABLE, message: 'busy' })).rejects.toMatchObject({
      code: Code.UNAVAILABLE,
    });
    expect(ledger.started.filter((s) => s.method === 'fail')).toHaveLength(4);
  });
});
