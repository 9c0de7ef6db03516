import { describe, expect, it } from 'vitest';
import { Code, codeName, NOT_PROCESSED_CODES, parseCode, SERVER_FAULT_CODES } from './code.js';

describe('Code', () => {
  it('is numbered exactly as gRPC', () => {
    expect([
      Code.OK,
      Code.CANCELLED,
      Code.DEADLINE_EXCEEDED,
      Code.UNIMPLEMENTED,
      Code.UNAVAILABLE,
      Code.UNAUTHENTICATED,
    ]).toEqual([0, 1, 4, 12, 14, 16]);
  });

  it('names codes and parses names and numbers back', () => {
    expect(codeName(5)).toBe('NOT_FOUND');
    expect(codeName(99)).toBe('CODE_99');
    expect(parseCode('not_found')).toBe(Code.NOT_FOUND);
    expect(parseCode('14')).toBe(Code.UNAVAILABLE);
    expect(parseCode(3)).toBe(Code.INVALID_ARGUMENT);
    expect(parseCode(17)).toBeUndefined();
    expect(parseCode(1.5)).toBeUndefined();
    expect(parseCode('BOGUS')).toBeUndefined();
  });

  it('never counts a caller fault as a server fault or as retryable', () => {
    for (const code of [
      Code.INVALID_ARGUMENT,
      Code.NOT_FOUND,
      Code.ALREADY_EXISTS,
      Code.PERMISSION_DENIED,
      Code.UNAUTHENTICATED,
      Code.FAILED_PRECONDITION,
    ]) {
      expect(SERVER_FAULT_CODES.has(code)).toBe(false);
      expect(NOT_PROCESSED_CODES.has(code)).toBe(false);
    }
    expect(SERVER_FAULT_CODES.has(Code.UNAVAILABLE)).toBe(true);
  });
});
