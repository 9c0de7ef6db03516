/**
 * Status codes of a Warren call, numbered exactly as gRPC's so that any
 * gRPC-aware tool, gateway table or client library reads them unchanged.
 * They travel on the wire as the integer in the `warren-status` header.
 */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** `Code.NOT_FOUND` → `"NOT_FOUND"`; unknown numbers → `"CODE_<n>"`. */
export function codeName(code: number): string {
  const name = (Code as unknown as Record<number, string | undefined>)[code];
  return name ?? `CODE_${code}`;
}

/** Parses a code from its number or its name; anything else is `undefined`. */
export function parseCode(value: unknown): Code | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 16) return value as Code;
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return parseCode(Number(value));
    const code = (Code as unknown as Record<string, number | undefined>)[value.toUpperCase()];
    if (typeof code === 'number') return code as Code;
  }
  return undefined;
}

/**
 * Codes that mean "the server did not process the request", so a retry cannot
 * run it twice. Only these are retried, and only for idempotent methods.
 */
export const NOT_PROCESSED_CODES: ReadonlySet<Code> = new Set([Code.UNAVAILABLE, Code.RESOURCE_EXHAUSTED]);

/**
 * Codes that are the downstream service's or the transport's fault. Circuit
 * breakers count only these; the caller's own mistakes (INVALID_ARGUMENT,
 * NOT_FOUND, PERMISSION_DENIED…) never trip a breaker.
 */
export const SERVER_FAULT_CODES: ReadonlySet<Code> = new Set([
  Code.UNKNOWN,
  Code.DEADLINE_EXCEEDED,
  Code.RESOURCE_EXHAUSTED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
  Code.DATA_LOSS,
]);
