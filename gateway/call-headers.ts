import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Code, type Metadata } from '../core/index.js';
import { validateMetadata } from '../core/protocol/index.js';
import { gatewayError } from './http-status.js';

/**
 * What HTTP request headers mean to the gateway.
 *
 * - `x-warren-timeout-ms: <integer>`: the RPC deadline, in milliseconds from
 *   arrival. Absent: the default; above the maximum: the maximum (so a
 *   client cannot pin gateway resources for long); not a positive integer: 400.
 * - `x-request-id`: kept when it is 1–128 printable ASCII characters,
 *   otherwise one is generated (UUID); always echoed in the response and
 *   sent to the service as metadata `request-id` (`x-*` keys are reserved
 *   for the broker in Warren metadata).
 * - Allow-listed headers (default `traceparent`, `tracestate`, `baggage`)
 *   become metadata under the same lower-case name.
 */
export const TIMEOUT_HEADER = 'x-warren-timeout-ms';
/** The request id header, read and echoed. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** The metadata key the request id travels under. */
export const REQUEST_ID_METADATA = 'request-id';
/** Headers forwarded as metadata by default: W3C trace context and baggage. */
export const DEFAULT_FORWARD_HEADERS: readonly string[] = ['traceparent', 'tracestate', 'baggage'];

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The request id to use: the client's if sane, else a fresh UUID. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The RPC timeout for a request; throws 400 on a malformed header. */
export function timeoutOf(headers: IncomingHttpHeaders, defaultMs: number, maxMs: number): number {
  const raw = headers[TIMEOUT_HEADER];
  if (raw === undefined) return Math.min(defaultMs, maxMs);
  if (typeof raw !== 'string' || !/^\d{1,12}$/.test(raw.trim()) || Number(raw) <= 0) {
    throw gatewayError(Code.INVALID_ARGUMENT, `${TIMEOUT_HEADER} must be a positive integer number of milliseconds`);
  }
  return Math.min(Number(raw), maxMs);
}

/**
 * Checks the allow-list once, at start-up: each name must be usable as a
 * metadata key (lower-case, not `x-*` or `warren-*`).
 */
export function checkForwardHeaders(names: readonly string[]): readonly string[] {
  const lower = names.map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  validateMetadata(Object.fromEntries(lower.map((name) => [name, ''])));
  if (lower.includes(REQUEST_ID_METADATA))
    throw new TypeError(`${REQUEST_ID_METADATA} is set by the gateway itself; do not forward it`);
  return lower;
}

/** The call metadata of a request; throws 400 when it breaks metadata limits. */
export function metadataOf(headers: IncomingHttpHeaders, forward: readonly string[], requestId: string): Metadata {
  const metadata: Metadata = { [REQUEST_ID_METADATA]: requestId };
  for (const name of forward) {
    const value = headers[name];
    if (value === undefined) continue;
    metadata[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  try {
    validateMetadata(metadata);
  } catch (error) {
    throw gatewayError(
      Code.INVALID_ARGUMENT,
      `forwarded headers: ${(error as Error & { rawMessage?: string }).rawMessage ?? String(error)}`,
    );
  }
  return metadata;
}
