/** OrderService's handlers. */
import { Code, type Logger, RpcError, type ServiceImplementation } from 'warren';
import { OrderStatus, type OrderServiceDefinition } from '../../gen/shop/orders/v1/orders.js';
import { invalidArgument } from '../shared/error-details.js';
import { pageOf, readPage } from '../shared/paging.js';
import { failureError, type OrderSaga } from './order-saga.js';
import type { OrderRecord, OrderStore } from './order-store.js';
import { fingerprintOf, validateCreateOrder } from './validate-order.js';

function found(store: OrderStore, id: string): OrderRecord {
  if (id === '') throw invalidArgument([{ field: 'id', description: 'required' }]);
  const record = store.get(id);
  if (!record) throw new RpcError(Code.NOT_FOUND, `order ${id} not found`);
  return record;
}

/** The handlers of shop.orders.v1.OrderService. */
export function createOrderService(
  store: OrderStore,
  saga: OrderSaga,
  logger: Logger,
): ServiceImplementation<typeof OrderServiceDefinition> {
  return {
    async createOrder(request) {
      const violations = validateCreateOrder(request);
      if (violations.length > 0) throw invalidArgument(violations);
      const fingerprint = fingerprintOf(request);
      const { record, created } = store.create({
        requestId: request.requestId,
        fingerprint,
        customerId: request.customerId,
        items: request.items,
        paymentToken: request.paymentToken,
      });
      if (created) {
        logger.info(
          { order: record.order.id, requestId: request.requestId, customer: request.customerId },
          'order created',
        );
      } else if (record.fingerprint !== fingerprint) {
        throw new RpcError(
          Code.ALREADY_EXISTS,
          `request_id ${request.requestId} was already used for order ${record.order.id}, which asks for something else; use a new request_id for a new order`,
        );
      }
      const final = await saga.advance(record);
      if (final.order.status === OrderStatus.ORDER_STATUS_FAILED) throw failureError(final);
      return { order: final.order };
    },
    getOrder(request) {
      return { order: found(store, request.id).order };
    },
    listOrders(request) {
      const page = readPage(request.pageSize, request.pageToken);
      const { rows, nextPageToken } = pageOf(store.list(page, request.customerId), page);
      return { orders: rows.map((row) => row.order), nextPageToken };
    },
    async cancelOrder(request) {
      const record = found(store, request.id);
      switch (record.order.status) {
        case OrderStatus.ORDER_STATUS_CANCELLED:
          return { order: record.order };
        case OrderStatus.ORDER_STATUS_PENDING:
          throw new RpcError(
            Code.FAILED_PRECONDITION,
            `order ${request.id} is still being placed; cancel it once it is paid`,
          );
        case OrderStatus.ORDER_STATUS_FAILED:
          throw new RpcError(
            Code.FAILED_PRECONDITION,
            `order ${request.id} failed, so nothing was charged or reserved; there is nothing to cancel`,
          );
        default: {
          const cancelled = store.cancel(request.id, request.reason || 'cancelled by the customer');
          logger.info({ order: request.id }, 'order cancelled');
          await saga.compensate(cancelled);
          return { order: (store.get(request.id) ?? cancelled).order };
        }
      }
    },
  };
}
