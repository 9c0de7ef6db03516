/**
 * The one circuit breaker (opossum) of Warren, for every caller of a downstream service: the gateway (one per
 * service it fronts) and services that call others (one per dependency). After repeated failures calls fail at once
 * with UNAVAILABLE — carrying a google.rpc.RetryInfo detail, which the gateway answers as `503` + `Retry-After` —
 * instead of each waiting out its deadline; after `resetTimeoutMs` one trial call decides whether to close again.
 *
 * Only service and transport faults ({@link SERVER_FAULT_CODES}: UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN,
 * DATA_LOSS, RESOURCE_EXHAUSTED) count as failures. A caller's own fault (INVALID_ARGUMENT, NOT_FOUND,
 * PERMISSION_DENIED…) and a caller that went away (CANCELLED) are answers: the service is healthy.
 */
import CircuitBreaker from 'opossum';
import { Code, SERVER_FAULT_CODES } from '../protocol/code.js';
import { retryInfo } from '../protocol/retry-info.js';
import { RpcError } from '../protocol/rpc-error.js';
import type { Logger } from '../observability/logger.js';
import { defaultMetrics, type WarrenMetrics } from '../observability/metrics.js';

/** Breaker tuning; the defaults are {@link DEFAULT_BREAKER_OPTIONS}. */
export interface BreakerOptions {
  /** Failure percentage over the window that opens a breaker. Default 50. */
  readonly errorThresholdPercentage?: number;
  /** Calls in the window before the percentage counts at all. Default 10. */
  readonly volumeThreshold?: number;
  /** Time open before one trial call is let through (half-open). Default 10 000 ms. */
  readonly resetTimeoutMs?: number;
  /** Length of the rolling statistics window. Default 10 000 ms. */
  readonly rollingWindowMs?: number;
  /** Where `warren_breaker_state` / `warren_breaker_transitions_total` go; `false` for none. Default the process's. */
  readonly metrics?: WarrenMetrics | false;
  /** Told of every state change (`transition` false when the breaker is created). Default none. */
  readonly onStateChange?: (name: string, state: BreakerState, transition: boolean) => void;
  /** Told of every call refused while open or mid-trial. Default none. */
  readonly onReject?: (name: string) => void;
}

/** The defaults of every breaker: services answering in milliseconds. */
export const DEFAULT_BREAKER_OPTIONS = {
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  resetTimeoutMs: 10_000,
  rollingWindowMs: 10_000,
} as const;

/** A breaker's state (the `warren_breaker_state` gauge: 0 closed, 1 half-open, 2 open). */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** One downstream's breaker. */
export interface Breaker {
  /** Runs `call`, or rejects at once with UNAVAILABLE (and a RetryInfo detail) while open. */
  run<T>(call: () => Promise<T>): Promise<T>;
  readonly state: BreakerState;
  /** Stops its timers and leaves {@link breakerStates}. */
  shutdown(): void;
}

/** The process's breakers that are not shut down. */
const live = new Map<Breaker, string>();

/** Every live breaker of this process as `[name, state]`: what the mesh reporter sends, so /mesh shows them. */
export function breakerStates(): [string, BreakerState][] {
  return [...live].map(([breaker, name]) => [name, breaker.state]);
}

/** Creates the breaker of the downstream `name` (a service or dependency name, as logs and metrics show it). */
export function createBreaker(name: string, options: BreakerOptions, logger: Logger): Breaker {
  const resetTimeoutMs = options.resetTimeoutMs ?? DEFAULT_BREAKER_OPTIONS.resetTimeoutMs;
  const breaker = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
    timeout: false,
    resetTimeout: resetTimeoutMs,
    errorThresholdPercentage: options.errorThresholdPercentage ?? DEFAULT_BREAKER_OPTIONS.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold ?? DEFAULT_BREAKER_OPTIONS.volumeThreshold,
    rollingCountTimeout: options.rollingWindowMs ?? DEFAULT_BREAKER_OPTIONS.rollingWindowMs,
    rollingCountBuckets: 10,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    errorFilter: (error: unknown) => error instanceof RpcError && !SERVER_FAULT_CODES.has(error.code),
  });
  const metrics = options.metrics === false ? undefined : (options.metrics ?? defaultMetrics());
  let openedAt = 0;
  const changed = (state: BreakerState, transition: boolean): void => {
    metrics?.breakerState(name, state, transition);
    options.onStateChange?.(name, state, transition);
  };
  changed('closed', false);
  breaker.on('open', () => {
    openedAt = Date.now();
    logger.warn({ service: name, state: 'open', resetTimeoutMs }, `circuit breaker opened: calls to ${name} fail fast`);
    changed('open', true);
  });
  breaker.on('halfOpen', () => {
    logger.info({ service: name, state: 'half-open' }, `circuit breaker half-open: one trial call to ${name}`);
    changed('half-open', true);
  });
  breaker.on('close', () => {
    logger.info({ service: name, state: 'closed' }, `circuit breaker closed: calls to ${name} flow again`);
    changed('closed', true);
  });
  const created: Breaker = {
    async run<T>(call: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(call)) as T;
      } catch (error) {
        if (error instanceof RpcError) throw error;
        if ((error as { code?: unknown }).code === 'EOPENBREAKER') {
          options.onReject?.(name);
          const waitMs = breaker.opened ? Math.max(1000, openedAt + resetTimeoutMs - Date.now()) : 1000;
          const seconds = Math.ceil(waitMs / 1000);
          throw new RpcError(
            Code.UNAVAILABLE,
            `circuit breaker for ${name} is open after repeated failures; retry after ${seconds} s`,
            { details: [retryInfo(seconds * 1000)] },
          );
        }
        throw RpcError.from(error, Code.INTERNAL);
      }
    },
    get state(): BreakerState {
      return breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed';
    },
    shutdown() {
      live.delete(created);
      breaker.shutdown();
    },
  };
  live.set(created, name);
  return created;
}

/** Breakers by name, created on first use: the gateway's one per service. */
export interface BreakerRegistry {
  /** The breaker of `name`, created with the registry's options on first use. */
  get(name: string): Breaker;
  /** Names that have a breaker, with their states. */
  states(): Map<string, BreakerState>;
  /** Shuts every breaker down. */
  shutdown(): void;
}

/** Creates a {@link BreakerRegistry}; every breaker shares `options`. */
export function createBreakerRegistry(options: BreakerOptions, logger: Logger): BreakerRegistry {
  const breakers = new Map<string, Breaker>();
  return {
    get(name) {
      let breaker = breakers.get(name);
      if (breaker === undefined) {
        breaker = createBreaker(name, options, logger);
        breakers.set(name, breaker);
      }
      return breaker;
    },
    states: () => new Map([...breakers].map(([name, breaker]) => [name, breaker.state])),
    shutdown() {
      for (const breaker of breakers.values()) breaker.shutdown();
      breakers.clear();
    },
  };
}
