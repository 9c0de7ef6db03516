import { Code, codeName } from './code.js';
import type { Metadata } from './metadata.js';

/**
 * One structured error detail, google.rpc.Status-style: a type URL and the
 * protobuf-encoded message (`type.googleapis.com/google.rpc.BadRequest`, …).
 */
export interface ErrorDetail {
  typeUrl: string;
  value: Uint8Array;
}

/** Options of {@link RpcError}. */
export interface RpcErrorOptions {
  /** Structured details sent to the caller. Default: none. */
  details?: readonly ErrorDetail[];
  /** Trailing metadata sent with the error. Default: none. */
  metadata?: Metadata;
  /** Local cause, for logs only: never sent on the wire. */
  cause?: unknown;
}

/**
 * The one error type that crosses every Warren boundary: thrown by handlers,
 * sent on the wire as a status, and rejected from every client call. Its
 * `code` is a gRPC-numbered {@link Code}; `rawMessage` is what the peer said.
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  readonly code: Code;
  readonly rawMessage: string;
  readonly details: readonly ErrorDetail[];
  readonly metadata: Metadata;

  constructor(code: Code, message: string, options: RpcErrorOptions = {}) {
    super(`[${codeName(code)}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.details = options.details ?? [];
    this.metadata = options.metadata ?? {};
  }

  /** The code's name, e.g. `"NOT_FOUND"`. */
  get codeName(): string {
    return codeName(this.code);
  }

  /**
   * Converts anything caught into an `RpcError`. An `RpcError` is returned as
   * it is; an `AbortError` becomes CANCELLED; anything else becomes `fallback`
   * (default INTERNAL) with a generic message, the original kept as `cause` for
   * local logs and never put on the wire.
   */
  static from(reason: unknown, fallback: Code = Code.INTERNAL, message?: string): RpcError {
    if (reason instanceof RpcError) return reason;
    if (isAbortError(reason)) return new RpcError(Code.CANCELLED, 'call cancelled', { cause: reason });
    return new RpcError(fallback, message ?? defaultMessage(fallback), { cause: reason });
  }
}

function defaultMessage(code: Code): string {
  return code === Code.INTERNAL ? 'internal error' : codeName(code).toLowerCase().replace(/_/g, ' ');
}

function isAbortError(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'AbortError';
}
