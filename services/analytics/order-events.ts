/**
 * Analytics' subscription: every event under `shop.orders.v1.` as the group
 * "analytics", a second queue next to notifications' (fan-out: each group
 * gets its own copy of every event).
 *
 * ```text
 *  exchange "warren.events" ──"shop.orders.v1.*"──▶ queue "events.analytics" ──▶ this service
 *                           └─(per type)─────────▶ queue "events.notifications" ──▶ notifications
 * ```
 *
 * It takes events undecoded (a pattern subscription) and decodes the types
 * it knows; an event type added later is still counted in `events_seen`.
 */
import { type EventBus, type Logger, type RawEvent, type Subscription } from 'warren';
import { OrderCancelled, OrderCreated, OrderFailed, OrderPaid } from '../../gen/shop/orders/v1/events.js';
import { failureReasonToJSON } from '../../gen/shop/orders/v1/orders.js';
import { failureCounter, type CounterDeltas, type StatsStore } from './stats-store.js';

/** The group every analytics instance subscribes as. */
export const ANALYTICS_GROUP = 'analytics';
/** Every order event. */
export const ORDER_EVENTS_PATTERN = 'shop.orders.v1.*';

const units = (items: readonly { quantity: number }[]): number => items.reduce((sum, item) => sum + item.quantity, 0);

/** The counter changes one order event makes. */
export function deltasOf(event: RawEvent): CounterDeltas {
  switch (event.type) {
    case OrderCreated.$type:
      return { orders_created: 1 };
    case OrderPaid.$type: {
      const paid = event.decode(OrderPaid);
      return { orders_paid: 1, revenue_cents: paid.totalCents, units_sold: units(paid.items) };
    }
    case OrderFailed.$type:
      return { orders_failed: 1, [failureCounter(failureReasonToJSON(event.decode(OrderFailed).reason))]: 1 };
    case OrderCancelled.$type: {
      const cancelled = event.decode(OrderCancelled);
      return { orders_cancelled: 1, revenue_cents: -cancelled.refundedCents, units_sold: -units(cancelled.items) };
    }
    default:
      return {};
  }
}

/** Subscribes the counters to every order event. */
export function subscribeToOrderEvents(events: EventBus, store: StatsStore, logger: Logger): Promise<Subscription> {
  return events.subscribe(
    ORDER_EVENTS_PATTERN,
    (event, ctx) => {
      if (store.count(ctx.messageId, event.type, ctx.publishedAt, deltasOf(event)))
        logger.debug({ type: event.type, messageId: ctx.messageId }, 'counted');
    },
    { group: ANALYTICS_GROUP },
  );
}
