/**
 * The notification service's subscriptions: every order event, as the group
 * "notifications" (one durable queue, events.notifications, shared by every
 * instance of this service; events wait there while the service is down).
 *
 * ```text
 *  exchange "warren.events" ──"shop.orders.v1.OrderCreated"──▶ queue "events.notifications" ──▶ this service
 *                           ──"shop.orders.v1.OrderPaid"─────▶        (one binding per type)
 *                           ──"shop.orders.v1.OrderFailed"───▶
 *                           ──"shop.orders.v1.OrderCancelled"▶
 * ```
 *
 * A failing send (NOTIFICATIONS_FAILURE_RATE simulates a mail outage) is
 * retried by the event bus after 1 s, 10 s, 60 s…, then dead-lettered.
 */
import {
  Code,
  type EventBus,
  type EventContext,
  type EventType,
  type Logger,
  RpcError,
  type Subscription,
} from 'warren';
import { OrderCancelled, OrderCreated, OrderFailed, OrderPaid } from '../../gen/shop/orders/v1/events.js';
import type { NotificationStore } from './notification-store.js';
import {
  orderCancelledMessage,
  orderCreatedMessage,
  orderFailedMessage,
  orderPaidMessage,
  type Message,
} from './templates.js';

/** The group every notification service instance subscribes as. */
export const NOTIFICATIONS_GROUP = 'notifications';

/** Options of {@link subscribeToOrders}. */
export interface OrderSubscriptionOptions {
  readonly events: EventBus;
  readonly store: NotificationStore;
  readonly logger: Logger;
  /** Fraction of sends failing with a simulated mail outage. Default 0. */
  readonly failureRate?: number;
}

/** Subscribes to the four order events; one notification per event. */
export async function subscribeToOrders(options: OrderSubscriptionOptions): Promise<Subscription[]> {
  const { events, store, logger } = options;
  const failureRate = options.failureRate ?? 0;

  function send(event: { orderId: string; customerId: string }, message: Message, ctx: EventContext): void {
    if (failureRate > 0 && Math.random() < failureRate) {
      throw new RpcError(
        Code.UNAVAILABLE,
        `mail server unavailable (simulated, NOTIFICATIONS_FAILURE_RATE=${failureRate})`,
      );
    }
    const sent = store.record({
      eventId: ctx.messageId,
      eventType: ctx.type,
      customerId: event.customerId,
      orderId: event.orderId,
      channel: 'email',
      ...message,
    });
    if (sent)
      logger.info(
        { to: event.customerId, order: event.orderId, attempt: ctx.attempt },
        `email sent: ${message.subject}`,
      );
  }

  const on = <E extends EventType<{ orderId: string; customerId: string }>>(
    type: E,
    render: (event: ReturnType<E['decode']>) => Message,
  ): Promise<Subscription> =>
    events.subscribe(type, (event, ctx) => send(event, render(event as ReturnType<E['decode']>), ctx), {
      group: NOTIFICATIONS_GROUP,
    });

  return [
    await on(OrderCreated, orderCreatedMessage),
    await on(OrderPaid, orderPaidMessage),
    await on(OrderFailed, orderFailedMessage),
    await on(OrderCancelled, orderCancelledMessage),
  ];
}
