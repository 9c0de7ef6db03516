/**
 * The inventory service: stock and reservations of the shop's catalogue.
 *
 * ```sh
 * npx tsx --conditions=warren-source services/inventory/main.ts
 * ```
 *
 * Env: AMQP_URL, DATA_DIR (inventory.db lives there, default ./data),
 * INVENTORY_CATALOG (products added on first sight, default
 * services/inventory/catalog.json), PREFETCH, WARREN_LOG_LEVEL.
 */
import { InventoryServiceDefinition } from '../../gen/shop/inventory/v1/inventory.js';
import { openDatabase } from '../shared/database.js';
import { runShopService } from '../shared/run-shop-service.js';
import { DEFAULT_CATALOG_PATH, loadCatalog } from './catalog.js';
import { createInventoryService } from './inventory-service.js';
import { createStockStore, INVENTORY_MIGRATIONS } from './stock-store.js';

await runShopService({
  name: 'inventory',
  setup({ server, logger, onShutdown }) {
    const db = openDatabase('inventory', INVENTORY_MIGRATIONS);
    onShutdown(() => db.close());
    const store = createStockStore(db);
    const catalogPath = process.env['INVENTORY_CATALOG'] || DEFAULT_CATALOG_PATH;
    const added = store.seed(loadCatalog(catalogPath));
    logger.info({ catalog: catalogPath, added, products: store.list().length }, 'catalogue loaded');
    server.add(InventoryServiceDefinition, createInventoryService(store, logger));
  },
});
