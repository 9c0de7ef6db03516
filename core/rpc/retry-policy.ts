import { Code } from '../protocol/code.js';
import { isIdempotent, type MethodInfo } from '../protocol/definition.js';
import { RpcError } from '../protocol/rpc-error.js';

/**
 * When a client retries. Only idempotent methods (`NO_SIDE_EFFECTS`,
 * `IDEMPOTENT`) are ever retried, only on `retryableCodes`, never past the
 * call's deadline, and only while the retry budget has tokens, so a total
 * outage cannot multiply the load on a struggling service.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 3; 1 turns retries off. */
  readonly maxAttempts?: number;
  /** Backoff before the first retry, before jitter. Default 50 ms. */
  readonly initialBackoffMs?: number;
  /** Largest backoff. Default 1 000 ms. */
  readonly maxBackoffMs?: number;
  /** Growth of the backoff per retry. Default 2. */
  readonly multiplier?: number;
  /** Codes that mean "not processed, try again". Default UNAVAILABLE. */
  readonly retryableCodes?: readonly Code[];
}

/**
 * The retry budget (gRPC-style throttling): a bucket of `maxTokens`; every
 * failed attempt takes one, every success gives back `tokenRatio`. Retries
 * happen only while the bucket is more than half full. Shared by every method
 * of a client.
 */
export interface RetryBudget {
  /** Default 10. */
  readonly maxTokens?: number;
  /** Default 0.1. */
  readonly tokenRatio?: number;
}

const connectionLosses = new WeakSet<RpcError>();

/**
 * Marks an error as "the connection dropped under this call". Such failures
 * are the transport's, not the service's: they are retried (idempotent
 * methods, within attempts and deadline) without spending the retry budget,
 * which exists to protect a struggling service.
 */
export function markConnectionLoss(error: RpcError): RpcError {
  connectionLosses.add(error);
  return error;
}

/** True when {@link markConnectionLoss} marked `error`: the connection dropped under the call. */
export function isConnectionLoss(error: unknown): boolean {
  return error instanceof RpcError && connectionLosses.has(error);
}

/** Defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: Required<RetryPolicy> = {
  maxAttempts: 3,
  initialBackoffMs: 50,
  maxBackoffMs: 1000,
  multiplier: 2,
  retryableCodes: [Code.UNAVAILABLE],
};

/** Tracks the budget's tokens. */
export class RetryThrottle {
  private tokens: number;
  private readonly maxTokens: number;
  private readonly tokenRatio: number;

  constructor(budget: RetryBudget = {}) {
    this.maxTokens = budget.maxTokens ?? 10;
    this.tokenRatio = budget.tokenRatio ?? 0.1;
    this.tokens = this.maxTokens;
  }

  onSuccess(): void {
    this.tokens = Math.min(this.maxTokens, this.tokens + this.tokenRatio);
  }

  onFailure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  /** True while retrying is allowed. */
  allows(): boolean {
    return this.tokens > this.maxTokens / 2;
  }
}

/**
 * Runs `attempt` until it succeeds, fails with a code that is not retryable,
 * runs out of attempts, budget or time. Backoff is exponential with full
 * jitter and never sleeps past the deadline or an abort.
 */
export async function withRetries<T>(
  method: MethodInfo,
  policy: Required<RetryPolicy>,
  throttle: RetryThrottle,
  deadline: number,
  signal: AbortSignal,
  attempt: (attemptNumber: number) => Promise<T>,
  onRetry?: (attemptNumber: number, error: RpcError) => void,
): Promise<T> {
  const retryable = isIdempotent(method.idempotency) && policy.maxAttempts > 1;
  let backoff = policy.initialBackoffMs;
  for (let number = 1; ; number++) {
    try {
      const result = await attempt(number);
      throttle.onSuccess();
      return result;
    } catch (error) {
      const rpcError = error instanceof RpcError ? error : undefined;
      if (!rpcError || signal.aborted) throw error;
      const lostConnection = connectionLosses.has(rpcError);
      const counted = !lostConnection && policy.retryableCodes.includes(rpcError.code);
      if (counted) throttle.onFailure();
      if (!retryable || !(counted || lostConnection) || number >= policy.maxAttempts || (counted && !throttle.allows()))
        throw error;
      const pause = Math.random() * Math.min(backoff, policy.maxBackoffMs);
      if (Date.now() + pause >= deadline) throw error;
      backoff *= policy.multiplier;
      onRetry?.(number + 1, rpcError);
      await sleep(pause, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
