import { describe, expect, it } from 'vitest';
import { Code } from './code.js';
import { MAX_METADATA_BYTES, metadataFromHeaders, validateMetadata } from './metadata.js';
import { RpcError } from './rpc-error.js';

function codeOf(fn: () => void): Code | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof RpcError ? error.code : undefined;
  }
}

describe('metadata', () => {
  it('accepts ordinary keys, traceparent included', () => {
    expect(
      codeOf(() => validateMetadata({ traceparent: '00-abc-def-01', 'request-id': '1', 'tenant.id': 'a_b' })),
    ).toBeUndefined();
  });

  it('refuses reserved, malformed, non-string and oversized metadata with INVALID_ARGUMENT', () => {
    expect(codeOf(() => validateMetadata({ 'warren-status': '0' }))).toBe(Code.INVALID_ARGUMENT);
    expect(codeOf(() => validateMetadata({ 'x-death': 'a' }))).toBe(Code.INVALID_ARGUMENT);
    expect(codeOf(() => validateMetadata({ Upper: 'a' }))).toBe(Code.INVALID_ARGUMENT);
    expect(codeOf(() => validateMetadata({ __proto__x: 'a' }))).toBe(Code.INVALID_ARGUMENT);
    expect(codeOf(() => validateMetadata({ n: 1 as unknown as string }))).toBe(Code.INVALID_ARGUMENT);
    expect(codeOf(() => validateMetadata({ big: 'x'.repeat(MAX_METADATA_BYTES) }))).toBe(Code.INVALID_ARGUMENT);
  });

  it('reads headers from other peers, skipping reserved and unreadable ones', () => {
    expect(
      metadataFromHeaders({
        a: 'x',
        b: Buffer.from('y'),
        c: 3,
        'warren-deadline': 1,
        'x-death': [],
        Bad: 'z',
        d: { nested: true },
      }),
    ).toEqual({ a: 'x', b: 'y', c: '3' });
  });
});
