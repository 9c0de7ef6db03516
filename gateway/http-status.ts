import { Code, RpcError } from '../core/index.js';
import { parseCode } from '../core/protocol/index.js';
import { retryDelayOf } from '../core/protocol/index.js';

/**
 * RPC status → HTTP status: grpc-gateway's table (FAILED_PRECONDITION is
 * 400, CANCELLED is 499, as grpc-gateway clients expect), ABORTED as 409 (the
 * outcome of a redelivered unsafe call is unknown; a conflict, not a server
 * crash). Every code not listed is 500.
 *
 * | RPC code            | HTTP |
 * |---------------------|------|
 * | OK                  | 200  |
 * | INVALID_ARGUMENT    | 400  |
 * | UNAUTHENTICATED     | 401  |
 * | PERMISSION_DENIED   | 403  |
 * | NOT_FOUND           | 404  |
 * | ALREADY_EXISTS      | 409  |
 * | ABORTED             | 409  |
 * | OUT_OF_RANGE        | 400  |
 * | FAILED_PRECONDITION | 400  |
 * | CANCELLED           | 499  |
 * | RESOURCE_EXHAUSTED  | 429  |
 * | UNIMPLEMENTED       | 501  |
 * | UNAVAILABLE         | 503  |
 * | DEADLINE_EXCEEDED   | 504  |
 * | anything else       | 500  |
 */
export const HTTP_STATUS_BY_CODE: ReadonlyMap<Code, number> = new Map([
  [Code.OK, 200],
  [Code.INVALID_ARGUMENT, 400],
  [Code.UNAUTHENTICATED, 401],
  [Code.PERMISSION_DENIED, 403],
  [Code.NOT_FOUND, 404],
  [Code.ALREADY_EXISTS, 409],
  [Code.ABORTED, 409],
  [Code.OUT_OF_RANGE, 400],
  [Code.FAILED_PRECONDITION, 400],
  [Code.CANCELLED, 499],
  [Code.RESOURCE_EXHAUSTED, 429],
  [Code.UNIMPLEMENTED, 501],
  [Code.UNAVAILABLE, 503],
  [Code.DEADLINE_EXCEEDED, 504],
]);

/** The HTTP status for an RPC code. */
export function httpStatusFor(code: Code): number {
  return HTTP_STATUS_BY_CODE.get(code) ?? 500;
}

/** What the gateway itself adds to an error it raises: a status outside the table, headers. */
interface HttpExtras {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

const extras = new WeakMap<RpcError, HttpExtras>();

/**
 * An `RpcError` the gateway raises before any RPC, with its own HTTP status
 * (413, 415, 405…) and headers (`Allow`, `Retry-After`). The JSON body still
 * carries the RPC code, so clients have one error shape.
 */
export function gatewayError(code: Code, message: string, status?: number, headers?: Record<string, string>): RpcError {
  const error = new RpcError(code, message);
  extras.set(error, { ...(status === undefined ? {} : { status }), ...(headers === undefined ? {} : { headers }) });
  return error;
}

/** The HTTP status of any error the gateway answers with (500 for an error that claims OK or an unknown code). */
export function httpStatusOf(error: RpcError): number {
  return extras.get(error)?.status ?? httpStatusFor(errorCodeOf(error));
}

/**
 * The code an error is answered with: its own, or UNKNOWN when it claims OK
 * or is not a status code (an interceptor's `new RpcError(NaN)`), so an
 * error never reads as success.
 */
export function errorCodeOf(error: RpcError): Code {
  return error.code !== Code.OK && parseCode(error.code) !== undefined ? error.code : Code.UNKNOWN;
}

/** Extra response headers of an error, if the gateway set any. */
export function httpHeadersOf(error: RpcError): Readonly<Record<string, string>> | undefined {
  const headers = extras.get(error)?.headers;
  if (headers?.['retry-after'] !== undefined) return headers;
  // a google.rpc.RetryInfo detail (an open breaker here or in a service behind us) is answered as Retry-After
  const delayMs = error.code === Code.UNAVAILABLE || error.code === Code.RESOURCE_EXHAUSTED ? retryDelayOf(error) : undefined;
  return delayMs === undefined ? headers : { ...headers, 'retry-after': String(Math.max(1, Math.ceil(delayMs / 1000))) };
}
