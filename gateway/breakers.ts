import CircuitBreaker from 'opossum';
import { Code, RpcError, SERVER_FAULT_CODES, type Logger } from '../core/index.js';
import { gatewayError } from './http-status.js';

/** Breaker tuning. Defaults suit a gateway in front of services answering in milliseconds. */
export interface BreakerOptions {
  /** Failure percentage over the window that opens a breaker. Default 50. */
  readonly errorThresholdPercentage?: number;
  /** Calls in the window before the percentage counts at all. Default 10. */
  readonly volumeThreshold?: number;
  /** Time open before one trial call is let through (half-open). Default 10 000 ms. */
  readonly resetTimeoutMs?: number;
  /** Length of the rolling statistics window. Default 10 000 ms. */
  readonly rollingWindowMs?: number;
}

/** A breaker's state: 0 closed, 1 half-open, 2 open (the `/metrics` gauge value). */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** The gateway's breakers, one per service, created on first use. */
export interface Breakers {
  /** Runs `call` through the service's breaker; rejects at once with UNAVAILABLE (503 + Retry-After) while open. */
  run<T>(service: string, call: () => Promise<T>): Promise<T>;
  state(service: string): BreakerState;
  /** Services that have a breaker, with their states. */
  states(): Map<string, BreakerState>;
  /** Stops every breaker's timers. */
  shutdown(): void;
}

/**
 * Creates the breaker registry. One breaker per service (not per method):
 * all methods of a service share one queue and one set of instances, so
 * when the service dies every method dies together, and a per-service
 * breaker sees enough calls to open fast even when traffic is spread over
 * many methods. The cost: one method that always times out opens the
 * breaker for its siblings too (a service that does that is unhealthy).
 *
 * Only {@link SERVER_FAULT_CODES} count as failures (UNAVAILABLE,
 * DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, DATA_LOSS, RESOURCE_EXHAUSTED); a
 * caller's mistake (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED…) and a
 * caller that went away (CANCELLED) count as successes: the service answered.
 * Open: calls fail at once, nothing is published. After `resetTimeoutMs`
 * the breaker is half-open: the next call is the trial, others still fail
 * fast; its success closes the breaker, its failure opens it again.
 */
export function createBreakers(
  options: BreakerOptions,
  logger: Logger,
  hooks: {
    /** A breaker was created (`transition` false) or changed state. */
    readonly onStateChange: (service: string, state: BreakerState, transition: boolean) => void;
    /** A call was refused because the breaker is open or mid-trial. */
    readonly onReject: (service: string) => void;
  },
): Breakers {
  const { onStateChange } = hooks;
  const resetTimeout = options.resetTimeoutMs ?? 10_000;
  const breakers = new Map<string, { breaker: CircuitBreaker<[() => Promise<unknown>], unknown>; openedAt: number }>();

  const breakerOf = (service: string) => {
    let entry = breakers.get(service);
    if (entry) return entry;
    const breaker = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
      timeout: false,
      resetTimeout,
      errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
      volumeThreshold: options.volumeThreshold ?? 10,
      rollingCountTimeout: options.rollingWindowMs ?? 10_000,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      errorFilter: (error: unknown) => error instanceof RpcError && !SERVER_FAULT_CODES.has(error.code),
    });
    const created = { breaker, openedAt: 0 };
    breaker.on('open', () => {
      created.openedAt = Date.now();
      logger.warn({ service, state: 'open', resetTimeoutMs: resetTimeout }, 'circuit breaker opened: calls fail fast with 503');
      onStateChange(service, 'open', true);
    });
    breaker.on('halfOpen', () => {
      logger.info({ service, state: 'half-open' }, 'circuit breaker half-open: letting one trial call through');
      onStateChange(service, 'half-open', true);
    });
    breaker.on('close', () => {
      logger.info({ service, state: 'closed' }, 'circuit breaker closed: calls flow again');
      onStateChange(service, 'closed', true);
    });
    breakers.set(service, created);
    onStateChange(service, 'closed', false);
    entry = created;
    return entry;
  };

  const stateOf = (breaker: CircuitBreaker<any, any>): BreakerState => (breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed');

  return {
    async run<T>(service: string, call: () => Promise<T>): Promise<T> {
      const entry = breakerOf(service);
      try {
        return (await entry.breaker.fire(call)) as T;
      } catch (error) {
        if (error instanceof RpcError) throw error;
        if ((error as { code?: unknown }).code === 'EOPENBREAKER') {
          hooks.onReject(service);
          const waitMs = entry.breaker.opened ? entry.openedAt + resetTimeout - Date.now() : 0;
          const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
          throw gatewayError(Code.UNAVAILABLE, `circuit breaker for ${service} is open after repeated failures; retry after ${retryAfter} s`, 503, { 'retry-after': String(retryAfter) });
        }
        throw RpcError.from(error, Code.INTERNAL);
      }
    },
    state(service) {
      const entry = breakers.get(service);
      return entry ? stateOf(entry.breaker) : 'closed';
    },
    states() {
      return new Map([...breakers].map(([service, entry]) => [service, stateOf(entry.breaker)]));
    },
    shutdown() {
      for (const { breaker } of breakers.values()) breaker.shutdown();
    },
  };
}
