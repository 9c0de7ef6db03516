import { Code } from '../../core/index.js';
import { gatewayError } from '../http-status.js';

/**
 * Connect's error code strings (connectrpc.com/docs/protocol, "Error
 * Codes"): the gRPC names in lower snake case, CANCELLED spelled `canceled`.
 */
export const CONNECT_CODE_NAMES: Readonly<Record<Code, string>> = {
  [Code.OK]: 'ok',
  [Code.CANCELLED]: 'canceled',
  [Code.UNKNOWN]: 'unknown',
  [Code.INVALID_ARGUMENT]: 'invalid_argument',
  [Code.DEADLINE_EXCEEDED]: 'deadline_exceeded',
  [Code.NOT_FOUND]: 'not_found',
  [Code.ALREADY_EXISTS]: 'already_exists',
  [Code.PERMISSION_DENIED]: 'permission_denied',
  [Code.RESOURCE_EXHAUSTED]: 'resource_exhausted',
  [Code.FAILED_PRECONDITION]: 'failed_precondition',
  [Code.ABORTED]: 'aborted',
  [Code.OUT_OF_RANGE]: 'out_of_range',
  [Code.UNIMPLEMENTED]: 'unimplemented',
  [Code.INTERNAL]: 'internal',
  [Code.UNAVAILABLE]: 'unavailable',
  [Code.DATA_LOSS]: 'data_loss',
  [Code.UNAUTHENTICATED]: 'unauthenticated',
};

/**
 * The HTTP status of a Connect unary error, exactly the Connect spec's
 * table. It differs from the JSON routes' table (gateway/http-status.ts) in
 * two places: FAILED_PRECONDITION is 400 (not 412) and CANCELLED 499 (not
 * 500). Connect clients read the code from the body, so the status only
 * matters to proxies and logs, but it must be what the spec says.
 */
export const CONNECT_HTTP_STATUS: Readonly<Record<Code, number>> = {
  [Code.OK]: 200,
  [Code.CANCELLED]: 499,
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.DEADLINE_EXCEEDED]: 504,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.RESOURCE_EXHAUSTED]: 429,
  [Code.FAILED_PRECONDITION]: 400,
  [Code.ABORTED]: 409,
  [Code.OUT_OF_RANGE]: 400,
  [Code.UNIMPLEMENTED]: 501,
  [Code.INTERNAL]: 500,
  [Code.UNAVAILABLE]: 503,
  [Code.DATA_LOSS]: 500,
  [Code.UNAUTHENTICATED]: 401,
};

const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * Reads gRPC's `grpc-timeout` (1–8 digits and a unit: H, M, S, m, u, n;
 * PROTOCOL-HTTP2.md) in milliseconds, at least 1. Absent: `undefined`.
 * Malformed: INVALID_ARGUMENT.
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? GRPC_TIMEOUT.exec(value.trim()) : null;
  if (!match)
    throw gatewayError(Code.INVALID_ARGUMENT, 'grpc-timeout must be 1 to 8 digits and a unit (H, M, S, m, u, n)');
  return Math.max(1, Math.ceil(Number(match[1]) * UNIT_MS[match[2]!]!));
}

/**
 * Reads Connect's `connect-timeout-ms` (a positive integer of at most 10
 * digits). Absent: `undefined`. Malformed: INVALID_ARGUMENT.
 */
export function parseConnectTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value.trim()) || Number(value) <= 0) {
    throw gatewayError(Code.INVALID_ARGUMENT, 'connect-timeout-ms must be a positive integer of at most 10 digits');
  }
  return Number(value);
}

/**
 * Percent-encodes `grpc-message` as PROTOCOL-HTTP2.md asks: bytes of the
 * UTF-8 text outside printable ASCII (0x20–0x7E), and `%` itself, become
 * `%XX`.
 */
export function encodeGrpcMessage(message: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(message)) return message;
  let encoded = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    encoded +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
