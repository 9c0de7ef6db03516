import { afterEach, describe, expect, it, vi } from 'vitest';
import { openCallScope } from './call-scope.js';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('openCallScope', () => {
  it('aborts with DEADLINE_EXCEEDED exactly at the deadline', () => {
    vi.useFakeTimers();
    const scope = openCallScope(Date.now() + 100, 'svc/M');
    vi.advanceTimersByTime(99);
    expect(scope.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect((scope.signal.reason as RpcError).code).toBe(Code.DEADLINE_EXCEEDED);
  });

  it('aborts with CANCELLED when a caller signal aborts, and inherits a parent deadline code', () => {
    const user = new AbortController();
    const scope = openCallScope(Date.now() + 10_000, 'svc/M', user.signal);
    user.abort();
    expect((scope.signal.reason as RpcError).code).toBe(Code.CANCELLED);
    const parent = new AbortController();
    parent.abort(new RpcError(Code.DEADLINE_EXCEEDED, 'parent deadline'));
    expect((openCallScope(Date.now() + 10_000, 'svc/M', parent.signal).signal.reason as RpcError).code).toBe(
      Code.DEADLINE_EXCEEDED,
    );
  });

  it('does not fire early for a deadline beyond the longest timer Node allows', () => {
    vi.useFakeTimers();
    const scope = openCallScope(Date.now() + 30 * 24 * 3600 * 1000, 'svc/M');
    vi.advanceTimersByTime(2 ** 31);
    expect(scope.signal.aborted).toBe(false);
    vi.advanceTimersByTime(30 * 24 * 3600 * 1000 - 2 ** 31);
    expect((scope.signal.reason as RpcError).code).toBe(Code.DEADLINE_EXCEEDED);
  });

  it('races a promise: the call rejects the moment the scope aborts, even if the promise never settles', async () => {
    const user = new AbortController();
    const scope = openCallScope(Date.now() + 10_000, 'svc/M', user.signal);
    const raced = scope.race(new Promise(() => undefined));
    user.abort();
    await expect(raced).rejects.toMatchObject({ code: Code.CANCELLED });
    await expect(scope.race(Promise.resolve(1))).rejects.toMatchObject({ code: Code.CANCELLED });
  });

  it('leaves no timer or listener behind after dispose', () => {
    vi.useFakeTimers();
    const user = new AbortController();
    const scope = openCallScope(Date.now() + 100, 'svc/M', user.signal);
    expect(vi.getTimerCount()).toBe(1);
    scope.dispose();
    expect(vi.getTimerCount()).toBe(0);
    user.abort();
    expect(scope.signal.aborted).toBe(false);
  });
});
