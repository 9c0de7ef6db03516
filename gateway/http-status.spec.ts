import { describe, expect, it } from 'vitest';
import { Code, RpcError } from '../core/index.js';
import { gatewayError, httpHeadersOf, httpStatusFor, httpStatusOf } from './http-status.js';

describe('HTTP status mapping', () => {
  it('follows the documented table, 500 for the rest', () => {
    const expected: Record<number, number> = {
      0: 200,
      3: 400,
      11: 400,
      16: 401,
      7: 403,
      5: 404,
      6: 409,
      10: 409,
      9: 400,
      1: 499,
      8: 429,
      12: 501,
      14: 503,
      4: 504,
    };
    for (let code = 0; code <= 16; code++) expect(httpStatusFor(code as Code)).toBe(expected[code] ?? 500);
  });

  it('lets gateway errors carry their own status and headers', () => {
    const error = gatewayError(Code.UNAVAILABLE, 'open', 503, { 'retry-after': '3' });
    expect(httpStatusOf(error)).toBe(503);
    expect(httpHeadersOf(error)).toEqual({ 'retry-after': '3' });
    expect(httpStatusOf(gatewayError(Code.INVALID_ARGUMENT, 'type', 415))).toBe(415);
    expect(httpStatusOf(new RpcError(Code.NOT_FOUND, 'x'))).toBe(404);
    expect(httpHeadersOf(new RpcError(Code.NOT_FOUND, 'x'))).toBeUndefined();
  });
});
