import { describe, expect, it } from 'vitest';
import { Code } from './code.js';
import { RpcError } from './rpc-error.js';
import { boundStatusMessage, checkJsonDepth, MAX_STATUS_MESSAGE_BYTES } from './wire-bounds.js';

describe('wire bounds', () => {
  it('keeps short messages and truncates long ones on a character boundary', () => {
    expect(boundStatusMessage('no product "A"')).toBe('no product "A"');
    const long = boundStatusMessage(`no product "${'é'.repeat(70_000)}"`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_BYTES);
    expect(long.endsWith('é…')).toBe(true);
  });

  it('refuses JSON nested deeper than the limit, ignoring brackets inside strings', () => {
    expect(() => checkJsonDepth(`{"a":"${'['.repeat(1000)}"}`, 'body')).not.toThrow();
    expect(() => checkJsonDepth(`{"a":${'['.repeat(65)}${']'.repeat(65)}}`, 'body')).toThrow(RpcError);
    try {
      checkJsonDepth('['.repeat(100_000), 'request of X');
    } catch (error) {
      expect((error as RpcError).code).toBe(Code.INVALID_ARGUMENT);
      expect((error as RpcError).rawMessage).toContain('deeper than 64 levels');
    }
    expect.assertions(4);
  });
});
