/**
 * A circuit breaker around one downstream service (opossum), for services
 * that call other services: after repeated failures calls fail at once with
 * UNAVAILABLE instead of each waiting out its timeout, and after a pause one
 * trial call decides whether to close again.
 */
import CircuitBreaker from 'opossum';
import { Code, defaultMetrics, RpcError, SERVER_FAULT_CODES, type Logger, type WarrenMetrics } from '../../core/index.js';

/** Breaker tuning. */
export interface BreakerOptions {
  /** Calls in the window before the failure percentage counts. Default 5. */
  readonly volumeThreshold?: number;
  /** Failure percentage that opens it. Default 50. */
  readonly errorThresholdPercentage?: number;
  /** Time open before a trial call. Default 10 000 ms. */
  readonly resetTimeoutMs?: number;
  /** Rolling statistics window. Default 10 000 ms. */
  readonly rollingWindowMs?: number;
  /** Where `warren_breaker_state` / `warren_breaker_transitions_total` go; `false` for none. Default the process's metrics. */
  readonly metrics?: WarrenMetrics | false;
}

/** The state as a word, for logs and tests. */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** One dependency's breaker. */
export interface Breaker {
  /** Runs `call`, or rejects at once with UNAVAILABLE while open. */
  run<T>(call: () => Promise<T>): Promise<T>;
  readonly state: BreakerState;
  /** Stops its timers. */
  shutdown(): void;
}

/** The process's breakers that are not shut down, for {@link breakerStates}. */
const live = new Set<{ readonly dependency: string; readonly breaker: Breaker }>();

/**
 * Every breaker of this process now, as `[dependency, state]`: what the mesh
 * reporter sends (run-service.ts), so the mesh page shows them on the edges.
 */
export function breakerStates(): [string, BreakerState][] {
  return [...live].map(({ dependency, breaker }) => [dependency, breaker.state]);
}

/**
 * Creates the breaker of `dependency`. Only service and transport faults
 * ({@link SERVER_FAULT_CODES}) count as failures: a declined card or a
 * short stock is an answer, so the dependency is healthy.
 */
export function createBreaker(dependency: string, options: BreakerOptions, logger: Logger): Breaker {
  const resetTimeoutMs = options.resetTimeoutMs ?? 10_000;
  const breaker = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
    timeout: false,
    resetTimeout: resetTimeoutMs,
    volumeThreshold: options.volumeThreshold ?? 5,
    errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
    rollingCountTimeout: options.rollingWindowMs ?? 10_000,
    rollingCountBuckets: 10,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    errorFilter: (error: unknown) => error instanceof RpcError && !SERVER_FAULT_CODES.has(error.code),
  });
  const metrics = options.metrics === false ? undefined : options.metrics ?? defaultMetrics();
  metrics?.breakerState(dependency, 'closed', false);
  breaker.on('open', () => {
    logger.warn({ dependency, state: 'open', resetTimeoutMs }, `circuit breaker for ${dependency} opened: calls fail fast`);
    metrics?.breakerState(dependency, 'open', true);
  });
  breaker.on('halfOpen', () => {
    logger.info({ dependency, state: 'half-open' }, `circuit breaker for ${dependency} half-open: one trial call`);
    metrics?.breakerState(dependency, 'half-open', true);
  });
  breaker.on('close', () => {
    logger.info({ dependency, state: 'closed' }, `circuit breaker for ${dependency} closed`);
    metrics?.breakerState(dependency, 'closed', true);
  });
  const created: Breaker = {
    async run<T>(call: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(call)) as T;
      } catch (error) {
        if ((error as { code?: unknown }).code === 'EOPENBREAKER') {
          throw new RpcError(Code.UNAVAILABLE, `circuit breaker for ${dependency} is open after repeated failures; next trial call within ${Math.ceil(resetTimeoutMs / 1000)} s`);
        }
        throw RpcError.from(error, Code.INTERNAL);
      }
    },
    get state(): BreakerState {
      return breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed';
    },
    shutdown() {
      live.delete(entry);
      breaker.shutdown();
    },
  };
  const entry = { dependency, breaker: created };
  live.add(entry);
  return created;
}
