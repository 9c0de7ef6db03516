/**
 * Placing an order across services, as a saga of retry-safe steps:
 *
 * ```text
 *  PENDING ── inventory.Reserve(reservation id = order id) ──▶ priced
 *     │            short: FAILED (OUT_OF_STOCK)          no answer: FAILED + release
 *     ▼
 *  priced ── payments.Charge(order id) ──▶ PAID
 *                  declined: FAILED + release      no answer: FAILED + release + refund (void)
 * ```
 *
 * Every call is keyed by the order id, so running the saga again for the
 * same order (a retried create, a redelivered request, the recovery loop
 * after a crash) finds what was already done instead of doing it twice.
 * Compensations (release the stock, refund or void the payment) are flags
 * on the order, cleared once the other service confirmed: a compensation
 * that cannot run now is retried by the recovery loop until it can. Calls
 * go through one circuit breaker per dependency.
 */
import { type Client, Code, type ErrorDetail, type Logger, RpcError } from 'warren';
import type { InventoryServiceDefinition, Reservation } from '../../gen/shop/inventory/v1/inventory.js';
import { FailureReason, OrderStatus } from '../../gen/shop/orders/v1/orders.js';
import type { Payment, PaymentServiceDefinition } from '../../gen/shop/payments/v1/payments.js';
import type { Breaker } from 'warren';
import type { OrderFailure, OrderRecord, OrderStore } from './order-store.js';

/** Options of {@link createOrderSaga}. */
export interface OrderSagaOptions {
  readonly store: OrderStore;
  readonly inventory: Client<typeof InventoryServiceDefinition>;
  readonly payments: Client<typeof PaymentServiceDefinition>;
  readonly breakers: { readonly inventory: Breaker; readonly payments: Breaker };
  readonly logger: Logger;
  /** Timeout of each Charge (within the caller's deadline). Default 3 000 ms. */
  readonly chargeTimeoutMs?: number;
  /** Timeout of each compensation call. Default 3 000 ms. */
  readonly compensationTimeoutMs?: number;
}

/** The saga runner. */
export interface OrderSaga {
  /** Drives a PENDING order to PAID or FAILED, once at a time per order in this process; answers the final record. */
  advance(record: OrderRecord): Promise<OrderRecord>;
  /** Runs an order's pending compensations; true when none are left. */
  compensate(record: OrderRecord): Promise<boolean>;
  /** Resolves once every saga and compensation running now has finished. */
  idle(): Promise<void>;
}

/** Creates the saga runner. */
export function createOrderSaga(options: OrderSagaOptions): OrderSaga {
  const { store, inventory, payments, breakers, logger } = options;
  const chargeTimeoutMs = options.chargeTimeoutMs ?? 3_000;
  const compensationTimeoutMs = options.compensationTimeoutMs ?? 3_000;
  const running = new Map<string, Promise<OrderRecord>>();
  const compensating = new Map<string, Promise<boolean>>();
  /** Orders whose compensation failed already: later failures are logged at debug only. */
  const warned = new Set<string>();

  async function fail(record: OrderRecord, failure: OrderFailure): Promise<OrderRecord> {
    const failed = store.failed(record.order.id, failure);
    logger.info(
      { order: failed.order.id, reason: FailureReason[failure.reason], message: failure.message },
      'order failed',
    );
    // The stock goes back before the caller hears of the failure; a refund (void) after a payments
    // outage would mostly wait out another timeout, so the recovery loop does it.
    if (failed.releasePending) await compensate({ ...failed, refundPending: false });
    return store.get(failed.order.id) ?? failed;
  }

  async function drive(record: OrderRecord): Promise<OrderRecord> {
    const { order } = record;
    let reservation: Reservation;
    try {
      ({ reservation } = await breakers.inventory.run(() =>
        inventory
          .reserve({ reservationId: order.id, items: order.items.map(({ sku, quantity }) => ({ sku, quantity })) })
          .then((answer) => ({ reservation: answer.reservation! })),
      ));
    } catch (caught) {
      const error = RpcError.from(caught, Code.UNAVAILABLE);
      if (error.code === Code.FAILED_PRECONDITION) {
        return fail(record, {
          reason: FailureReason.FAILURE_REASON_OUT_OF_STOCK,
          code: error.code,
          message: `order ${order.id} not placed: ${error.rawMessage}; nothing was charged`,
          details: error.details,
          release: false,
          refund: false,
        });
      }
      if (error.code === Code.NOT_FOUND) {
        return fail(record, {
          reason: FailureReason.FAILURE_REASON_UNKNOWN_PRODUCT,
          code: error.code,
          message: `order ${order.id} not placed: ${error.rawMessage}`,
          details: [],
          release: false,
          refund: false,
        });
      }
      return fail(record, {
        reason: FailureReason.FAILURE_REASON_INVENTORY_UNAVAILABLE,
        code: Code.UNAVAILABLE,
        message: `order ${order.id} not placed: inventory is unavailable (${error.rawMessage}); nothing was charged`,
        details: [],
        release: true,
        refund: false,
      });
    }

    const pricedRecord = store.price(order.id, reservation.items, reservation.totalCents, reservation.currencyCode);
    // Another instance finished this order meanwhile (its outcome and compensations stand).
    if (pricedRecord.order.status !== OrderStatus.ORDER_STATUS_PENDING) return pricedRecord;
    const priced = pricedRecord.order;
    let payment: Payment;
    try {
      ({ payment } = await breakers.payments.run(() =>
        payments
          .charge(
            {
              orderId: order.id,
              customerId: order.customerId,
              amountCents: priced.totalCents,
              currencyCode: priced.currencyCode,
              paymentToken: record.paymentToken,
            },
            { timeoutMs: chargeTimeoutMs },
          )
          .then((answer) => ({ payment: answer.payment! })),
      ));
    } catch (caught) {
      const error = RpcError.from(caught, Code.UNAVAILABLE);
      if (error.code === Code.FAILED_PRECONDITION) {
        return fail(record, {
          reason: FailureReason.FAILURE_REASON_PAYMENT_DECLINED,
          code: error.code,
          message: `order ${order.id} not placed: ${error.rawMessage}; the stock was released`,
          details: error.details,
          release: true,
          refund: false,
        });
      }
      return fail(record, {
        reason: FailureReason.FAILURE_REASON_PAYMENT_UNAVAILABLE,
        code: Code.UNAVAILABLE,
        message: `order ${order.id} not placed: payments is unavailable (${error.rawMessage}); nothing stays charged and the stock was released; retry with a new request_id`,
        details: [],
        release: true,
        refund: true,
      });
    }
    const paid = store.paid(order.id, payment.id);
    logger.info({ order: order.id, totalCents: paid.order.totalCents, payment: payment.id }, 'order paid');
    return paid;
  }

  function compensate(record: OrderRecord): Promise<boolean> {
    const id = record.order.id;
    const already = compensating.get(id);
    if (already) return already;
    const run = (async () => {
      let done = true;
      const reason =
        record.order.status === OrderStatus.ORDER_STATUS_CANCELLED ? `order ${id} cancelled` : `order ${id} failed`;
      const step = async (what: 'release' | 'refund', call: () => Promise<unknown>): Promise<void> => {
        try {
          await call();
          store.compensated(id, what);
          if (warned.delete(`${id} ${what}`)) logger.info({ order: id, compensation: what }, `${what} done after all`);
        } catch (error) {
          done = false;
          const first = !warned.has(`${id} ${what}`);
          warned.add(`${id} ${what}`);
          logger[first ? 'warn' : 'debug'](
            { order: id, compensation: what, reason: RpcError.from(error).message },
            `could not ${what} yet; the recovery loop retries`,
          );
        }
      };
      const callOptions = { parent: null, timeoutMs: compensationTimeoutMs };
      if (record.releasePending)
        await step('release', () =>
          breakers.inventory.run(() => inventory.release({ reservationId: id }, callOptions)),
        );
      if (record.refundPending)
        await step('refund', () => breakers.payments.run(() => payments.refund({ orderId: id, reason }, callOptions)));
      return done;
    })().finally(() => compensating.delete(id));
    compensating.set(id, run);
    return run;
  }

  return {
    advance(record) {
      if (record.order.status !== OrderStatus.ORDER_STATUS_PENDING) return Promise.resolve(record);
      const id = record.order.id;
      const already = running.get(id);
      if (already) return already;
      const run = drive(record).finally(() => running.delete(id));
      running.set(id, run);
      return run;
    },
    compensate,
    async idle() {
      await Promise.allSettled([...running.values(), ...compensating.values()]);
    },
  };
}

/** The error a failed create answers, every time it is asked again. */
export function failureError(record: OrderRecord): RpcError {
  const details: readonly ErrorDetail[] = record.failure?.details ?? [];
  return new RpcError(record.failure?.code ?? Code.INTERNAL, record.order.statusMessage, { details });
}
