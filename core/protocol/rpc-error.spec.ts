import { describe, expect, it } from 'vitest';
import { Code } from './code.js';
import { RpcError } from './rpc-error.js';

describe('RpcError.from', () => {
  it('returns an RpcError unchanged', () => {
    const error = new RpcError(Code.NOT_FOUND, 'no such order');
    expect(RpcError.from(error)).toBe(error);
  });

  it('hides the message of anything else behind a generic one and keeps it as the cause', () => {
    const cause = new Error('password=hunter2');
    const error = RpcError.from(cause);
    expect(error.code).toBe(Code.INTERNAL);
    expect(error.rawMessage).toBe('internal error');
    expect(error.message).not.toContain('hunter2');
    expect(error.cause).toBe(cause);
  });

  it('maps abort errors to CANCELLED and honours the fallback code', () => {
    const abort = new DOMException('aborted', 'AbortError');
    expect(RpcError.from(abort).code).toBe(Code.CANCELLED);
    expect(RpcError.from('x', Code.INVALID_ARGUMENT, 'bad input').rawMessage).toBe('bad input');
  });

  it('formats the message with the code name', () => {
    expect(new RpcError(Code.UNAVAILABLE, 'down').message).toBe('[UNAVAILABLE] down');
    expect(new RpcError(Code.UNAVAILABLE, 'down').codeName).toBe('UNAVAILABLE');
  });
});
