/**
 * The order service's background repair loop, so no order is left half
 * done: it retries compensations that could not run (inventory or payments
 * was down) and resumes PENDING orders whose processing was interrupted (the
 * process died mid-saga and no retry of the create came). Both are safe to
 * repeat: every step is keyed by the order id.
 */
import { type Logger } from 'warren';
import type { OrderSaga } from './order-saga.js';
import type { OrderStore } from './order-store.js';

/** Options of {@link startOrderRecovery}. */
export interface OrderRecoveryOptions {
  readonly store: OrderStore;
  readonly saga: OrderSaga;
  readonly logger: Logger;
  /** Pause between passes. Default 2 000 ms. */
  readonly intervalMs?: number;
  /** A PENDING order untouched this long is resumed. Default 10 000 ms. */
  readonly resumeAfterMs?: number;
}

/** Starts the loop (a first pass at once); `stop()` waits for the pass running. */
export function startOrderRecovery(options: OrderRecoveryOptions): { stop(): Promise<void> } {
  const { store, saga, logger } = options;
  const resumeAfterMs = options.resumeAfterMs ?? 10_000;
  let pass: Promise<void> | undefined;
  let stopped = false;

  const run = (): void => {
    if (pass || stopped) return;
    pass = (async () => {
      for (const record of store.compensating(50)) await saga.compensate(record);
      const stale = store.stalePending(Date.now() - resumeAfterMs, 50);
      if (stale.length > 0)
        logger.info(
          { orders: stale.map((record) => record.order.id) },
          'resuming orders whose processing was interrupted',
        );
      await Promise.all(stale.map((record) => saga.advance(record)));
    })()
      .catch((error: unknown) => logger.error({ err: error }, 'order recovery pass failed'))
      .finally(() => {
        pass = undefined;
      });
  };
  const timer = setInterval(run, options.intervalMs ?? 2_000);
  timer.unref();
  run();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pass;
    },
  };
}
