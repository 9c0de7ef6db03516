import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeEvent } from 'warren/tooling';
import { type EventType, PROTOBUF, type RawEvent } from 'warren';
import { OrderCancelled, OrderCreated, OrderFailed, OrderPaid } from '../../gen/shop/orders/v1/events.js';
import { FailureReason } from '../../gen/shop/orders/v1/orders.js';
import { openDatabase, type ServiceDatabase } from '../shared/database.js';
import { deltasOf } from './order-events.js';
import { createStatsStore, STATS_MIGRATIONS, type StatsStore } from './stats-store.js';

function raw<T>(type: EventType<T>, message: Partial<T>): RawEvent {
  const event = { type: type.$type, contentType: PROTOBUF, body: type.encode(type.fromPartial(message)).finish() };
  return { ...event, decode: (as) => decodeEvent(as, event) };
}

describe('analytics counters', () => {
  let dir: string;
  let db: ServiceDatabase;
  let store: StatsStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'warren-stats-'));
    db = openDatabase('analytics', STATS_MIGRATIONS, dir);
    store = createStatsStore(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts each order event once, however often it is delivered', () => {
    const events: [string, RawEvent][] = [
      ['m1', raw(OrderCreated, { orderId: 'o1' })],
      [
        'm2',
        raw(OrderPaid, {
          orderId: 'o1',
          totalCents: 2400n,
          items: [{ sku: 'MUG', quantity: 2, unitPriceCents: 1200n }],
        }),
      ],
      ['m3', raw(OrderCreated, { orderId: 'o2' })],
      ['m4', raw(OrderFailed, { orderId: 'o2', reason: FailureReason.FAILURE_REASON_OUT_OF_STOCK })],
      [
        'm5',
        raw(OrderCancelled, {
          orderId: 'o1',
          refundedCents: 2400n,
          items: [{ sku: 'MUG', quantity: 2, unitPriceCents: 1200n }],
        }),
      ],
      [
        'm6',
        {
          type: 'shop.orders.v1.OrderShipped',
          contentType: PROTOBUF,
          body: new Uint8Array(),
          decode: () => ({}) as never,
        },
      ],
    ];
    for (const [id, event] of events) expect(store.count(id, event.type, 1000, deltasOf(event))).toBe(true);
    expect(store.count('m2', OrderPaid.$type, 2000, deltasOf(events[1]![1]))).toBe(false);
    expect(store.stats()).toEqual({
      ordersCreated: 2n,
      ordersPaid: 1n,
      ordersFailed: 1n,
      ordersCancelled: 1n,
      revenueCents: 0n,
      unitsSold: 0n,
      failuresByReason: { FAILURE_REASON_OUT_OF_STOCK: 1n },
      eventsSeen: 6n,
      lastEventTime: new Date(1000),
    });
  });
});
