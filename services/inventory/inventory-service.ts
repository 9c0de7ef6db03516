/** InventoryService's handlers: check the request, then one store transaction. */
import { Code, type Logger, RpcError, type ServiceImplementation } from 'warren';
import type { InventoryServiceDefinition, ReserveItem } from '../../gen/shop/inventory/v1/inventory.js';
import { invalidArgument, type FieldViolation } from '../shared/error-details.js';
import type { StockStore } from './stock-store.js';

/** Most units of one SKU one reservation may take. */
export const MAX_RESERVE_QUANTITY = 10_000;

function checkItems(reservationId: string, items: readonly ReserveItem[]): void {
  const violations: FieldViolation[] = [];
  if (reservationId === '') violations.push({ field: 'reservation_id', description: 'required' });
  if (items.length === 0) violations.push({ field: 'items', description: 'at least one item is required' });
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (item.sku === '') violations.push({ field: `items[${index}].sku`, description: 'required' });
    else if (seen.has(item.sku))
      violations.push({ field: `items[${index}].sku`, description: `${item.sku} is listed twice` });
    seen.add(item.sku);
    if (item.quantity < 1 || item.quantity > MAX_RESERVE_QUANTITY)
      violations.push({ field: `items[${index}].quantity`, description: `must be 1 to ${MAX_RESERVE_QUANTITY}` });
  });
  if (violations.length > 0) throw invalidArgument(violations);
}

/** The handlers of shop.inventory.v1.InventoryService over a store. */
export function createInventoryService(
  store: StockStore,
  logger: Logger,
): ServiceImplementation<typeof InventoryServiceDefinition> {
  return {
    reserve(request) {
      checkItems(request.reservationId, request.items);
      const reservation = store.reserve(request.reservationId, request.items);
      logger.debug({ reservation: reservation.id, totalCents: reservation.totalCents }, 'reserved');
      return { reservation };
    },
    release(request) {
      if (request.reservationId === '') throw invalidArgument([{ field: 'reservation_id', description: 'required' }]);
      const reservation = store.release(request.reservationId);
      logger.debug({ reservation: reservation.id }, 'released');
      return { reservation };
    },
    getStock(request) {
      if (request.sku === '') throw invalidArgument([{ field: 'sku', description: 'required' }]);
      const stock = store.stock(request.sku);
      if (!stock) throw new RpcError(Code.NOT_FOUND, `no product ${request.sku} in the catalogue`);
      return { stock };
    },
    listStock() {
      return { stock: store.list() };
    },
  };
}
