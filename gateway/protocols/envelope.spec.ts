import { describe, expect, it } from 'vitest';
import { Code } from '../../core/index.js';
import { decodeUnaryEnvelope, EnvelopeReader, encodeEnvelope } from './envelope.js';

describe('length-prefixed messages', () => {
  it('frames and unframes one message', () => {
    const framed = encodeEnvelope(0, Buffer.from('abc'));
    expect([...framed]).toEqual([0, 0, 0, 0, 3, 0x61, 0x62, 0x63]);
    expect(decodeUnaryEnvelope(framed).toString()).toBe('abc');
    expect(decodeUnaryEnvelope(encodeEnvelope(0, Buffer.alloc(0)))).toHaveLength(0);
  });

  it('refuses truncated, padded, empty and compressed unary bodies', () => {
    const framed = encodeEnvelope(0, Buffer.from('abc'));
    expect(() => decodeUnaryEnvelope(framed.subarray(0, 6))).toThrow(
      expect.objectContaining({ code: Code.INVALID_ARGUMENT }),
    );
    expect(() => decodeUnaryEnvelope(Buffer.concat([framed, framed]))).toThrow(
      expect.objectContaining({ code: Code.INVALID_ARGUMENT }),
    );
    expect(() => decodeUnaryEnvelope(Buffer.alloc(0))).toThrow(
      expect.objectContaining({ code: Code.INVALID_ARGUMENT }),
    );
    expect(() => decodeUnaryEnvelope(encodeEnvelope(1, Buffer.from('x')))).toThrow(
      expect.objectContaining({ code: Code.UNIMPLEMENTED }),
    );
  });

  it('splits a stream into messages across arbitrary chunk boundaries, with a size limit', () => {
    const stream = Buffer.concat([encodeEnvelope(0, Buffer.from('one')), encodeEnvelope(0, Buffer.from('two!'))]);
    const reader = new EnvelopeReader(100);
    const found = [...stream].flatMap((byte) => reader.push(Buffer.from([byte])));
    expect(found.map((envelope) => envelope.payload.toString())).toEqual(['one', 'two!']);
    expect(reader.pending).toBe(false);
    expect(() => new EnvelopeReader(2).push(stream)).toThrow(
      expect.objectContaining({ code: Code.RESOURCE_EXHAUSTED }),
    );
  });
});
