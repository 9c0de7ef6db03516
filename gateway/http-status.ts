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

/** Seconds a 503 from a service asks the client to wait, unless the service said (`retry-after` trailer). */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * Extra response headers of an error: the gateway's own, else, for every
 * UNAVAILABLE a service answered (orders when a dependency failed, …), a
 * `Retry-After` — the service's `retry-after` trailer when it is a number of
 * seconds, else {@link DEFAULT_RETRY_AFTER_SECONDS} — so every 503 tells
 * clients when to come back, as the breaker's do.
 */
export function httpHeadersOf(error: RpcError): Readonly<Record<string, string>> | undefined {
  const own = extras.get(error)?.headers;
  if (own?.['retry-after'] !== undefined) return own;
  if (error.code !== Code.UNAVAILABLE && error.code !== Code.RESOURCE_EXHAUSTED) return own;
  // when to come back: a google.rpc.RetryInfo detail (an open breaker here or in a service behind us), else a
  // service's `retry-after` trailer, else (any 503) DEFAULT_RETRY_AFTER_SECONDS
  const delayMs = retryDelayOf(error);
  const said = error.metadata['retry-after'];
  const seconds =
    delayMs !== undefined
      ? String(Math.max(1, Math.ceil(delayMs / 1000)))
      : said !== undefined && /^\d{1,5}$/.test(said)
        ? said
        : httpStatusOf(error) === 503
          ? String(DEFAULT_RETRY_AFTER_SECONDS)
          : undefined;
  return seconds === undefined ? own : { ...own, 'retry-after': seconds };
}
