import { describe, expect, it } from 'vitest';
import { RETRY_INFO_TYPE_URL, retryDelayOf, retryInfo } from './retry-info.js';

describe('google.rpc.RetryInfo', () => {
  it('round-trips whole seconds and milliseconds', () => {
    for (const ms of [0, 1, 999, 1_000, 1_500, 61_250]) expect(retryDelayOf({ details: [retryInfo(ms)] })).toBe(ms);
  });

  it('is encoded as protobuf peers decode it: field 1 a Duration of seconds (1) and nanos (2)', () => {
    // 1.5 s: 0a 08 (field 1, 8 bytes) · 08 01 (seconds 1) · 10 80 ca b5 ee 01 (nanos 500 000 000)
    expect([...retryInfo(1_500).value]).toEqual([0x0a, 0x08, 0x08, 0x01, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01]);
    expect(retryInfo(1).typeUrl).toBe(RETRY_INFO_TYPE_URL);
  });

  it('is undefined without a readable detail', () => {
    expect(retryDelayOf({ details: [] })).toBeUndefined();
    expect(
      retryDelayOf({ details: [{ typeUrl: RETRY_INFO_TYPE_URL, value: Uint8Array.of(0x0a, 0x09) }] }),
    ).toBeUndefined();
  });
});
