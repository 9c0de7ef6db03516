/**
 * The payment service: charges and refunds orders through a simulated card
 * provider whose latency and outages are configurable.
 *
 * ```sh
 * PAYMENTS_FAILURE_RATE=0.3 PAYMENTS_LATENCY_MS=50-400 npx tsx --conditions=warren-source services/payments/main.ts
 * ```
 *
 * Env: AMQP_URL, DATA_DIR (payments.db, default ./data), PAYMENTS_FAILURE_RATE
 * (0 to 1, default 0), PAYMENTS_LATENCY_MS (default 0), PREFETCH,
 * WARREN_LOG_LEVEL.
 */
import { PaymentServiceDefinition } from '../../gen/shop/payments/v1/payments.js';
import { openDatabase } from '../shared/database.js';
import { envFraction, envRange } from '../shared/env.js';
import { runShopService } from '../shared/run-shop-service.js';
import { createPaymentService } from './payment-service.js';
import { createPaymentStore, PAYMENT_MIGRATIONS } from './payment-store.js';
import { createProvider } from './provider.js';

await runShopService({
  name: 'payments',
  setup({ server, logger, onShutdown }) {
    const db = openDatabase('payments', PAYMENT_MIGRATIONS);
    onShutdown(() => db.close());
    const failureRate = envFraction('PAYMENTS_FAILURE_RATE', 0);
    const latencyMs = envRange('PAYMENTS_LATENCY_MS', [0, 0]);
    logger.info({ failureRate, latencyMs }, 'simulated card provider');
    server.add(
      PaymentServiceDefinition,
      createPaymentService(createPaymentStore(db), createProvider({ failureRate, latencyMs }), logger),
    );
  },
});
