import { describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { RpcError } from '../core/index.js';
import { CliError, describeFailure, ExitCode, inputError, rpcExitCode } from './exit-codes.js';

describe('exit codes', () => {
  it('maps a failed call to 10 + its status code, with its message and metadata', () => {
    expect(rpcExitCode(Code.UNAVAILABLE)).toBe(24);
    expect(describeFailure(new RpcError(Code.DEADLINE_EXCEEDED, 'too slow', { metadata: { a: '1' } }))).toEqual({
      exitCode: 14,
      code: Code.DEADLINE_EXCEEDED,
      message: 'too slow',
      command: undefined,
      metadata: { a: '1' },
    });
  });

  it('keeps the exit code of a CliError and turns input errors into usage errors with their code', () => {
    expect(describeFailure(new CliError(ExitCode.FAILED, Code.FAILED_PRECONDITION, 'lint'))).toMatchObject({
      exitCode: 1,
      code: Code.FAILED_PRECONDITION,
      message: 'lint',
    });
    const wrapped = inputError(new RpcError(Code.INVALID_ARGUMENT, 'field x: expected string'), 'call');
    expect([wrapped.exitCode, wrapped.code, wrapped.message, wrapped.command]).toEqual([
      ExitCode.USAGE,
      Code.INVALID_ARGUMENT,
      'field x: expected string',
      'call',
    ]);
  });

  it('reports anything else as INTERNAL with exit 1', () => {
    expect(describeFailure(new TypeError('boom'))).toMatchObject({
      exitCode: 1,
      code: Code.INTERNAL,
      message: 'TypeError: boom',
    });
  });
});
