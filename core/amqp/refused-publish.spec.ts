import { describe, expect, it } from 'vitest';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import { isRefused, markRefused, refusedBackoffMs } from './refused-publish.js';

describe('refused publishes', () => {
  it('are told apart from other errors of the same code', () => {
    const nacked = markRefused(new RpcError(Code.RESOURCE_EXHAUSTED, 'refused'));
    expect(isRefused(nacked)).toBe(true);
    expect(isRefused(new RpcError(Code.RESOURCE_EXHAUSTED, 'a handler said so'))).toBe(false);
    expect(isRefused(undefined)).toBe(false);
    expect(isRefused('refused')).toBe(false);
  });

  it('back off from 50-100 ms, doubling, to at most 1 s', () => {
    expect(refusedBackoffMs(1, () => 0)).toBe(50);
    expect(refusedBackoffMs(1, () => 1)).toBe(100);
    expect(refusedBackoffMs(2, () => 1)).toBe(200);
    expect(refusedBackoffMs(4, () => 1)).toBe(800);
    expect(refusedBackoffMs(5, () => 1)).toBe(1000);
    expect(refusedBackoffMs(30, () => 0.5)).toBe(750);
  });
});
