import { describe, expect, it } from 'vitest';
import { Code } from './code.js';
import { decodeStatus, encodeStatus, statusFromJson, statusToJson } from './status-codec.js';

const status = {
  code: Code.INVALID_ARGUMENT,
  message: 'quantity must be positive',
  details: [{ typeUrl: 'type.googleapis.com/google.rpc.BadRequest', value: new Uint8Array([10, 3, 1, 2, 3]) }],
};

describe('status codec', () => {
  it('round-trips google.rpc.Status as protobuf', () => {
    expect(decodeStatus(encodeStatus(status))).toEqual(status);
  });

  it('matches the google.rpc.Status field numbers', () => {
    // code=3 → field 1 varint (08 03); message → field 2 (0x12)
    const bytes = encodeStatus({ code: Code.INVALID_ARGUMENT, message: 'x', details: [] });
    expect([...bytes]).toEqual([0x08, 0x03, 0x12, 0x01, 0x78]);
  });

  it('round-trips the JSON form', () => {
    const json = JSON.parse(JSON.stringify(statusToJson(status)));
    expect(json.details[0]['@type']).toBe(status.details[0]!.typeUrl);
    expect(statusFromJson(json)).toEqual(status);
  });

  it('rejects malformed bytes and non-object JSON', () => {
    expect(() => decodeStatus(new Uint8Array([0x0a, 0xff]))).toThrow();
    expect(() => statusFromJson('nope')).toThrow(TypeError);
    expect(statusFromJson({ code: 99 }).code).toBe(Code.UNKNOWN);
  });
});
