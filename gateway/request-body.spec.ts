import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { RpcError } from '../core/index.js';
import { httpStatusOf } from './http-status.js';
import { bodyKindOf, parseJsonBody } from './request-body.js';

function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (error) {
    if (error instanceof RpcError) return httpStatusOf(error);
    throw error;
  }
  return 0;
}

describe('request bodies', () => {
  it('accepts JSON in any letter case with a UTF-8 charset, protobuf where allowed', () => {
    expect(bodyKindOf('Application/JSON; charset=UTF-8', 2, false)).toBe('json');
    expect(bodyKindOf('application/json', 2, false)).toBe('json');
    expect(bodyKindOf('application/x-protobuf', 2, true)).toBe('protobuf');
    expect(bodyKindOf('application/protobuf', 2, true)).toBe('protobuf');
    expect(bodyKindOf(undefined, 0, false)).toBe('json');
  });

  it('answers 415 for other types, other charsets, protobuf on REST and bodies without a type', () => {
    expect(statusOf(() => bodyKindOf('text/plain', 2, true))).toBe(415);
    expect(statusOf(() => bodyKindOf('application/json; charset=iso-8859-1', 2, true))).toBe(415);
    expect(statusOf(() => bodyKindOf('application/x-protobuf', 2, false))).toBe(415);
    expect(statusOf(() => bodyKindOf(undefined, 2, true))).toBe(415);
  });

  it('parses JSON, empty as {}, and answers 400 for malformed JSON or UTF-8', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1]}'))).toEqual({ a: [new LosslessNumber('1')] }); // numbers keep their text until a field reads them
    expect(parseJsonBody(Buffer.alloc(0))).toEqual({});
    expect(statusOf(() => parseJsonBody(Buffer.from('{"a":')))).toBe(400);
    expect(statusOf(() => parseJsonBody(Buffer.from([0x22, 0xff, 0x22])))).toBe(400);
  });
});
