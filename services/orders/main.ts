/**
 * The order service: places orders across inventory and payments and
 * announces them as events.
 *
 * ```sh
 * npx tsx --conditions=warren-source services/orders/main.ts
 * ```
 *
 * | env | default | |
 * |---|---|---|
 * | `AMQP_URL` | local broker | |
 * | `DATA_DIR` | `./data` | orders.db lives there |
 * | `ORDERS_INVENTORY_TIMEOUT_MS` | 3000 | each inventory call |
 * | `ORDERS_CHARGE_TIMEOUT_MS` | 3000 | each Charge |
 * | `ORDERS_BREAKER_VOLUME` | 10 | calls in the window before a breaker may open |
 * | `ORDERS_BREAKER_ERROR_PERCENT` | 50 | failure share that opens it |
 * | `ORDERS_BREAKER_RESET_MS` | 10000 | open time before a trial call |
 * | `ORDERS_BREAKER_WINDOW_MS` | 10000 | rolling window the failure share is taken over |
 * | `ORDERS_RECOVERY_INTERVAL_MS` | 2000 | compensation retries, interrupted orders |
 * | `ORDERS_RESUME_AFTER_MS` | 10000 | a PENDING order untouched this long is resumed |
 * | `PREFETCH`, `WARREN_LOG_LEVEL` | 64, info | |
 */
import { createClient } from 'warren';
import { InventoryServiceDefinition } from '../../gen/shop/inventory/v1/inventory.js';
import { OrderCancelled, OrderCreated, OrderFailed, OrderPaid } from '../../gen/shop/orders/v1/events.js';
import { OrderServiceDefinition } from '../../gen/shop/orders/v1/orders.js';
import { PaymentServiceDefinition } from '../../gen/shop/payments/v1/payments.js';
import { createBreaker, DEFAULT_BREAKER_OPTIONS, type BreakerOptions } from 'warren';
import { openDatabase } from '../shared/database.js';
import { envInteger } from '../shared/env.js';
import { createOutbox } from '../shared/outbox.js';
import { runShopService } from '../shared/run-shop-service.js';
import { startOrderRecovery } from './order-recovery.js';
import { createOrderSaga } from './order-saga.js';
import { createOrderService } from './order-service.js';
import { createOrderStore, ORDER_MIGRATIONS } from './order-store.js';

await runShopService({
  name: 'orders',
  setup({ server, transport, events, logger, onShutdown }) {
    const db = openDatabase('orders', ORDER_MIGRATIONS);
    onShutdown(() => db.close());
    const outbox = createOutbox({ db, events, logger, types: [OrderCreated, OrderPaid, OrderFailed, OrderCancelled] });
    onShutdown(() => outbox.stop());
    const store = createOrderStore(db, outbox);

    const breakerOptions: BreakerOptions = {
      volumeThreshold: envInteger('ORDERS_BREAKER_VOLUME', DEFAULT_BREAKER_OPTIONS.volumeThreshold, { min: 1 }),
      errorThresholdPercentage: envInteger(
        'ORDERS_BREAKER_ERROR_PERCENT',
        DEFAULT_BREAKER_OPTIONS.errorThresholdPercentage,
        { min: 1, max: 100 },
      ),
      resetTimeoutMs: envInteger('ORDERS_BREAKER_RESET_MS', DEFAULT_BREAKER_OPTIONS.resetTimeoutMs, { min: 1 }),
      rollingWindowMs: envInteger('ORDERS_BREAKER_WINDOW_MS', DEFAULT_BREAKER_OPTIONS.rollingWindowMs, { min: 100 }),
    };
    const breakers = {
      inventory: createBreaker('inventory', breakerOptions, logger),
      payments: createBreaker('payments', breakerOptions, logger),
    };
    onShutdown(() => Object.values(breakers).forEach((breaker) => breaker.shutdown()));
    const saga = createOrderSaga({
      store,
      logger,
      breakers,
      inventory: createClient(InventoryServiceDefinition, transport, {
        timeoutMs: envInteger('ORDERS_INVENTORY_TIMEOUT_MS', 3_000, { min: 1 }),
      }),
      payments: createClient(PaymentServiceDefinition, transport),
      chargeTimeoutMs: envInteger('ORDERS_CHARGE_TIMEOUT_MS', 3_000, { min: 1 }),
    });
    onShutdown(() => saga.idle());
    server.add(OrderServiceDefinition, createOrderService(store, saga, logger));

    outbox.start();
    const recovery = startOrderRecovery({
      store,
      saga,
      logger,
      intervalMs: envInteger('ORDERS_RECOVERY_INTERVAL_MS', 2_000, { min: 10 }),
      resumeAfterMs: envInteger('ORDERS_RESUME_AFTER_MS', 10_000, { min: 0 }),
    });
    onShutdown(() => recovery.stop());
  },
});
