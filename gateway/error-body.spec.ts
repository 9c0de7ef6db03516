import { describe, expect, it } from 'vitest';
import { Code, RpcError } from '../core/index.js';
import { errorBody } from './error-body.js';

describe('error bodies', () => {
  it('are {code, message, details}', () => {
    expect(errorBody(new RpcError(Code.NOT_FOUND, 'no such order'), undefined)).toEqual({
      code: Code.NOT_FOUND,
      message: 'no such order',
      details: [],
    });
  });

  it('never name the broker: its URLs in a message become "the broker"', () => {
    const error = new RpcError(
      Code.UNAVAILABLE,
      'connection to the broker at amqps://gateway:***@broker.internal:5671/shop was lost',
    );
    expect(errorBody(error, undefined).message).toBe('connection to the broker at the broker was lost');
  });

  it('answer errors claiming OK, or with a code outside the table, as UNKNOWN', () => {
    expect(errorBody(new RpcError(Code.OK, 'odd'), undefined).code).toBe(Code.UNKNOWN);
    expect(errorBody(new RpcError(Number.NaN as Code, 'odd'), undefined).code).toBe(Code.UNKNOWN);
    expect(errorBody(new RpcError(42 as Code, 'odd'), undefined).code).toBe(Code.UNKNOWN);
  });
});
