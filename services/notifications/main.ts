/**
 * The notification service: tells customers about their orders (it records
 * and logs each email instead of sending it) and lists what it sent.
 *
 * ```sh
 * npx tsx --conditions=warren-source services/notifications/main.ts
 * ```
 *
 * Env: AMQP_URL, DATA_DIR (notifications.db, default ./data),
 * NOTIFICATIONS_FAILURE_RATE (0 to 1, simulated mail outages, default 0),
 * PREFETCH, WARREN_LOG_LEVEL.
 */
import { NotificationServiceDefinition } from '../../gen/shop/notifications/v1/notifications.js';
import { openDatabase } from '../shared/database.js';
import { envFraction } from '../shared/env.js';
import { runShopService } from '../shared/run-shop-service.js';
import { createNotificationService } from './notification-service.js';
import { createNotificationStore, NOTIFICATION_MIGRATIONS } from './notification-store.js';
import { subscribeToOrders } from './order-subscriptions.js';

await runShopService({
  name: 'notifications',
  async setup({ server, events, logger, onShutdown }) {
    const db = openDatabase('notifications', NOTIFICATION_MIGRATIONS);
    onShutdown(() => db.close());
    const store = createNotificationStore(db);
    server.add(NotificationServiceDefinition, createNotificationService(store));
    await subscribeToOrders({ events, store, logger, failureRate: envFraction('NOTIFICATIONS_FAILURE_RATE', 0) });
  },
});
