/** PaymentService's handlers: check, ask the provider, record once per order. */
import { Code, type Logger, RpcError, type ServiceImplementation } from 'warren';
import { PaymentStatus, type PaymentServiceDefinition } from '../../gen/shop/payments/v1/payments.js';
import { invalidArgument, type FieldViolation } from '../shared/error-details.js';
import { pageOf, readPage } from '../shared/paging.js';
import type { PaymentStore } from './payment-store.js';
import type { Provider } from './provider.js';

/** The handlers of shop.payments.v1.PaymentService. */
export function createPaymentService(
  store: PaymentStore,
  provider: Provider,
  logger: Logger,
): ServiceImplementation<typeof PaymentServiceDefinition> {
  return {
    async charge(request, ctx) {
      const violations: FieldViolation[] = [];
      if (request.orderId === '') violations.push({ field: 'order_id', description: 'required' });
      if (request.amountCents <= 0) violations.push({ field: 'amount_cents', description: 'must be above 0' });
      if (!/^[A-Z]{3}$/.test(request.currencyCode))
        violations.push({ field: 'currency_code', description: 'must be an ISO 4217 code like "EUR"' });
      if (request.paymentToken === '') violations.push({ field: 'payment_token', description: 'required' });
      if (violations.length > 0) throw invalidArgument(violations);

      const decision = await provider.authorize(request.paymentToken, ctx.signal);
      const { payment, created } = store.charge(request, decision.declineReason);
      switch (payment.status) {
        case PaymentStatus.PAYMENT_STATUS_CAPTURED:
          if (payment.amountCents !== request.amountCents || payment.currencyCode !== request.currencyCode) {
            throw new RpcError(
              Code.ALREADY_EXISTS,
              `order ${request.orderId} was already charged ${payment.amountCents} ${payment.currencyCode} (payment ${payment.id})`,
            );
          }
          if (created)
            logger.info({ payment: payment.id, order: payment.orderId, amountCents: payment.amountCents }, 'charged');
          return { payment };
        case PaymentStatus.PAYMENT_STATUS_DECLINED:
          if (created) logger.info({ payment: payment.id, order: payment.orderId }, 'declined');
          throw new RpcError(Code.FAILED_PRECONDITION, `payment declined: ${payment.statusMessage}`);
        default:
          throw new RpcError(
            Code.FAILED_PRECONDITION,
            `order ${request.orderId} was ${payment.status === PaymentStatus.PAYMENT_STATUS_REFUNDED ? 'refunded' : 'voided'}; it cannot be charged again`,
          );
      }
    },
    async refund(request, ctx) {
      if (request.orderId === '') throw invalidArgument([{ field: 'order_id', description: 'required' }]);
      await provider.call(ctx.signal);
      const payment = store.refund(request.orderId, request.reason || 'refunded');
      logger.info({ payment: payment.id, order: payment.orderId, status: PaymentStatus[payment.status] }, 'refund');
      return { payment };
    },
    listPayments(request) {
      const page = readPage(request.pageSize, request.pageToken);
      const { rows, nextPageToken } = pageOf(store.list(page, request.orderId), page);
      return { payments: rows.map((row) => row.payment), nextPageToken };
    },
  };
}
