import { describe, expect, it } from 'vitest';
import { Code } from '../../core/index.js';
import {
  CONNECT_CODE_NAMES,
  CONNECT_HTTP_STATUS,
  encodeGrpcMessage,
  parseConnectTimeout,
  parseGrpcTimeout,
} from './wire-status.js';

describe('wire status', () => {
  it('reads grpc-timeout in every unit, rounding up to whole milliseconds', () => {
    expect(parseGrpcTimeout(undefined)).toBeUndefined();
    expect(parseGrpcTimeout('2H')).toBe(7_200_000);
    expect(parseGrpcTimeout('3M')).toBe(180_000);
    expect(parseGrpcTimeout('5S')).toBe(5000);
    expect(parseGrpcTimeout('250m')).toBe(250);
    expect(parseGrpcTimeout('1500u')).toBe(2);
    expect(parseGrpcTimeout('1n')).toBe(1);
    for (const bad of ['', '5', 's5', '123456789m', '1.5S', '5s', '-1m'])
      expect(() => parseGrpcTimeout(bad), bad).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
  });

  it('reads connect-timeout-ms: positive, at most 10 digits', () => {
    expect(parseConnectTimeout('1500')).toBe(1500);
    for (const bad of ['0', '-5', '1.5', '12345678901', 'x'])
      expect(() => parseConnectTimeout(bad), bad).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
  });

  it('percent-encodes grpc-message: non-printable bytes and % only', () => {
    expect(encodeGrpcMessage('plain text: ok!')).toBe('plain text: ok!');
    expect(encodeGrpcMessage('100% é\n')).toBe('100%25 %C3%A9%0A');
  });

  it('maps codes as the Connect spec does', () => {
    expect(CONNECT_CODE_NAMES[Code.CANCELLED]).toBe('canceled');
    expect(CONNECT_CODE_NAMES[Code.DEADLINE_EXCEEDED]).toBe('deadline_exceeded');
    expect(CONNECT_HTTP_STATUS[Code.FAILED_PRECONDITION]).toBe(400);
    expect(CONNECT_HTTP_STATUS[Code.CANCELLED]).toBe(499);
    expect(CONNECT_HTTP_STATUS[Code.UNIMPLEMENTED]).toBe(501);
    expect(CONNECT_HTTP_STATUS[Code.DEADLINE_EXCEEDED]).toBe(504);
    expect(CONNECT_HTTP_STATUS[Code.RESOURCE_EXHAUSTED]).toBe(429);
    expect(Object.keys(CONNECT_HTTP_STATUS)).toHaveLength(17);
  });
});
