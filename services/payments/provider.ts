/**
 * The pretend card provider behind the payment service, with the faults a
 * real one has: latency (PAYMENTS_LATENCY_MS, `"100"` or `"50-250"`,
 * default 0) and outages (PAYMENTS_FAILURE_RATE, the fraction of calls that
 * fail with UNAVAILABLE before anything is charged, default 0). The token
 * `tok_decline` is always declined.
 */
import { Code, RpcError } from 'warren';

/** The test token that is always declined. */
export const DECLINED_TOKEN = 'tok_decline';

/** Options of {@link createProvider}. */
export interface ProviderOptions {
  /** Latency range in ms, inclusive. Default [0, 0]. */
  readonly latencyMs?: readonly [number, number];
  /** Fraction of calls failing with UNAVAILABLE. Default 0. */
  readonly failureRate?: number;
  /** Default Math.random. */
  readonly random?: () => number;
}

/** The provider's answer to a charge. */
export interface ProviderDecision {
  /** Set when the card is declined. */
  readonly declineReason: string | undefined;
}

/** A simulated card provider. */
export interface Provider {
  /** Waits the latency, then fails (outage) or decides. Rejects with CANCELLED when `signal` aborts. */
  authorize(paymentToken: string, signal: AbortSignal): Promise<ProviderDecision>;
  /** Waits the latency, then fails (outage) or resolves. */
  call(signal: AbortSignal): Promise<void>;
}

/** Creates the simulated provider. */
export function createProvider(options: ProviderOptions = {}): Provider {
  const [low, high] = options.latencyMs ?? [0, 0];
  const failureRate = options.failureRate ?? 0;
  const random = options.random ?? Math.random;

  async function call(signal: AbortSignal): Promise<void> {
    const delay = high > low ? low + Math.round(random() * (high - low)) : low;
    if (delay > 0) await sleep(delay, signal);
    if (failureRate > 0 && random() < failureRate) {
      throw new RpcError(
        Code.UNAVAILABLE,
        `the card provider is unavailable (simulated outage, PAYMENTS_FAILURE_RATE=${failureRate}); nothing was charged`,
      );
    }
  }

  return {
    call,
    async authorize(paymentToken, signal) {
      await call(signal);
      return {
        declineReason:
          paymentToken === DECLINED_TOKEN ? `the card issuer said no (test token ${DECLINED_TOKEN})` : undefined,
      };
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(RpcError.from(signal.reason, Code.CANCELLED));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(RpcError.from(signal.reason, Code.CANCELLED));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
