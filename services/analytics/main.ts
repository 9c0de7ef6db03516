/**
 * The analytics service: counts order events (a second subscriber group next
 * to notifications) and serves the totals.
 *
 * ```sh
 * npx tsx --conditions=warren-source services/analytics/main.ts
 * ```
 *
 * Env: AMQP_URL, DATA_DIR (analytics.db, default ./data), PREFETCH,
 * WARREN_LOG_LEVEL.
 */
import { AnalyticsServiceDefinition } from '../../gen/shop/analytics/v1/analytics.js';
import { openDatabase } from '../shared/database.js';
import { runShopService } from '../shared/run-shop-service.js';
import { subscribeToOrderEvents } from './order-events.js';
import { createStatsStore, STATS_MIGRATIONS } from './stats-store.js';

await runShopService({
  name: 'analytics',
  async setup({ server, events, logger, onShutdown }) {
    const db = openDatabase('analytics', STATS_MIGRATIONS);
    onShutdown(() => db.close());
    const store = createStatsStore(db);
    server.add(AnalyticsServiceDefinition, { getOrderStats: () => store.stats() });
    await subscribeToOrderEvents(events, store, logger);
  },
});
