import { Code, SERVER_FAULT_CODES } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import type { EventOutcome } from '../event-transport.js';

/** Default most handler attempts before an event is dead-lettered. */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** Default delays before the 1st, 2nd, 3rd… retry; the last one repeats. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 10_000, 60_000];
/** Longest retry delay accepted (one day). */
export const MAX_RETRY_DELAY_MS = 86_400_000;
/** Longest reason kept in dead-letter and retry headers. */
const MAX_REASON_LENGTH = 1_024;

/** How a subscription retries a failing handler. */
export interface RedeliveryPolicy {
  /** Handler attempts in all, first delivery included; then the event is dead-lettered. */
  readonly maxAttempts: number;
  /** Delay before retry n is `retryDelaysMs[min(n, length) - 1]`. */
  readonly retryDelaysMs: readonly number[];
}

/** Fills in defaults and checks the numbers; throws INVALID_ARGUMENT. */
export function retryPolicy(options: { maxAttempts?: number; retryDelaysMs?: readonly number[] }): RedeliveryPolicy {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RpcError(Code.INVALID_ARGUMENT, `maxAttempts must be a positive integer, got ${maxAttempts}`);
  }
  if (
    retryDelaysMs.length === 0 ||
    !retryDelaysMs.every((ms) => Number.isInteger(ms) && ms >= 1 && ms <= MAX_RETRY_DELAY_MS)
  ) {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `retryDelaysMs must be a non-empty list of whole milliseconds between 1 and ${MAX_RETRY_DELAY_MS}`,
    );
  }
  return { maxAttempts, retryDelaysMs: [...retryDelaysMs] };
}

/**
 * Decides what happens to an event whose handler threw. Failures that are
 * the service's or a dependency's fault ({@link SERVER_FAULT_CODES}: plain
 * errors count as INTERNAL) are retried after the policy's delay until
 * `maxAttempts`; anything else (INVALID_ARGUMENT, NOT_FOUND, …: the event
 * itself is the problem) is dead-lettered at once. The reason keeps the
 * error's text, since dead letters are read by the group's own operators.
 */
export function failureOutcome(error: unknown, attemptsBefore: number, policy: RedeliveryPolicy): EventOutcome {
  const attempts = attemptsBefore + 1;
  const reason = describeFailure(error);
  const code = error instanceof RpcError ? error.code : Code.INTERNAL;
  if (!SERVER_FAULT_CODES.has(code) || attempts >= policy.maxAttempts) return { kind: 'dead', attempts, reason };
  const delays = policy.retryDelaysMs;
  return { kind: 'retry', delayMs: delays[Math.min(attempts, delays.length) - 1]!, attempts, reason };
}

/** `[CODE] message` of an RpcError; `[INTERNAL] Name: message` of anything else; bounded. */
export function describeFailure(error: unknown): string {
  const text =
    error instanceof RpcError
      ? error.message
      : error instanceof Error
        ? `[INTERNAL] ${error.name}: ${error.message}`
        : `[INTERNAL] ${String(error)}`;
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH - 1)}…` : text;
}
