/** What the customer is told about each order event. */
import type { OrderCancelled, OrderCreated, OrderFailed, OrderPaid } from '../../gen/shop/orders/v1/events.js';
import type { OrderItem } from '../../gen/shop/orders/v1/orders.js';

/** A rendered message. */
export interface Message {
  readonly subject: string;
  readonly body: string;
}

function money(cents: bigint, currency: string): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')} ${currency}`;
}

function lines(items: readonly { sku: string; quantity: number }[]): string {
  return items.map((item) => `${item.quantity} × ${item.sku}`).join(', ');
}

function units(items: readonly OrderItem[]): number {
  return items.reduce((sum, item) => sum + item.quantity, 0);
}

/** "We received your order". */
export function orderCreatedMessage(event: OrderCreated): Message {
  return {
    subject: `We received your order ${event.orderId}`,
    body: `Thanks! We are placing your order: ${lines(event.items)}.`,
  };
}

/** "Your order is confirmed". */
export function orderPaidMessage(event: OrderPaid): Message {
  return {
    subject: `Order ${event.orderId} confirmed`,
    body: `We charged ${money(event.totalCents, event.currencyCode)} (payment ${event.paymentId}) for ${units(event.items)} item(s): ${lines(event.items)}.`,
  };
}

/** "We could not place your order". */
export function orderFailedMessage(event: OrderFailed): Message {
  return { subject: `We could not place order ${event.orderId}`, body: `Sorry: ${event.message}` };
}

/** "Your order is cancelled". */
export function orderCancelledMessage(event: OrderCancelled): Message {
  return {
    subject: `Order ${event.orderId} cancelled`,
    body: `We refunded ${money(event.refundedCents, event.currencyCode)}. Reason: ${event.reason}.`,
  };
}
