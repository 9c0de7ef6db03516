import { describe, expect, it } from 'vitest';
import { EchoRequest } from '../../gen/warren/test/v1/test.js';
import { Code } from './code.js';
import { decodeMessage, encodeMessage, JSON_TYPE, parseContentType, PROTOBUF } from './content-type.js';
import { RpcError } from './rpc-error.js';

function rejection(fn: () => unknown): RpcError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RpcError) return error;
  }
  throw new Error('expected an RpcError');
}

describe('content types', () => {
  it('parses content types leniently and unknown ones as undefined', () => {
    expect(parseContentType(undefined)).toBe(PROTOBUF);
    expect(parseContentType('Application/JSON; charset=utf-8')).toBe(JSON_TYPE);
    expect(parseContentType('application/protobuf')).toBe(PROTOBUF);
    expect(parseContentType('text/plain')).toBeUndefined();
  });

  it('round-trips a message through both encodings', () => {
    const message = EchoRequest.fromPartial({
      text: 'hé',
      number: 42,
      payload: new Uint8Array([1, 2]),
      tags: ['a'],
      sentAt: new Date(0),
    });
    for (const type of [PROTOBUF, JSON_TYPE]) {
      expect(decodeMessage(EchoRequest, encodeMessage(EchoRequest, message, type), type, 'x')).toEqual(message);
    }
  });

  it('refuses garbage with INVALID_ARGUMENT saying what was wrong', () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(rejection(() => decodeMessage(EchoRequest, garbage, PROTOBUF, 'request')).code).toBe(Code.INVALID_ARGUMENT);
    const badJson = rejection(() => decodeMessage(EchoRequest, Buffer.from('{"text": '), JSON_TYPE, 'request'));
    expect(badJson.code).toBe(Code.INVALID_ARGUMENT);
    expect(badJson.rawMessage).toContain('request is not valid JSON');
    expect(rejection(() => decodeMessage(EchoRequest, Buffer.from('[1]'), JSON_TYPE, 'request')).rawMessage).toContain(
      'JSON object',
    );
    expect(
      rejection(() => decodeMessage(EchoRequest, new Uint8Array([0xc3, 0x28]), JSON_TYPE, 'request')).rawMessage,
    ).toContain('not valid UTF-8');
  });
});
