/**
 * Analytics' tables: named counters, and the ids of the events already
 * counted, updated in one transaction per event, so an event delivered twice
 * is counted once.
 */
import type { GetOrderStatsResponse } from '../../gen/shop/analytics/v1/analytics.js';
import type { ServiceDatabase } from '../shared/database.js';

/** Schema versions of analytics.db (append only). */
export const STATS_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE seen_events (
    message_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    seen_at INTEGER NOT NULL
  );
  CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  );
  `,
];

/** Prefix of the per-reason failure counters. */
const FAILURE_PREFIX = 'failures.';

/** Counter changes of one event. Keys: `orders_created`, `revenue_cents`, `failures.<REASON>`… */
export type CounterDeltas = Readonly<Record<string, number | bigint>>;

/** Counters over analytics.db. */
export interface StatsStore {
  /** Applies one event's changes unless that event was counted before; true when applied. */
  count(messageId: string, type: string, publishedAt: number, deltas: CounterDeltas): boolean;
  stats(): GetOrderStatsResponse;
}

/** The counter name of a failure reason. */
export function failureCounter(reason: string): string {
  return `${FAILURE_PREFIX}${reason}`;
}

/** Opens the store over a migrated database. */
export function createStatsStore(db: ServiceDatabase): StatsStore {
  const seen = db.prepare('INSERT OR IGNORE INTO seen_events (message_id, type, seen_at) VALUES (?, ?, ?)');
  const add = db.prepare(
    'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value',
  );
  const latest = db.prepare(
    'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)',
  );
  const all = db.prepare('SELECT name, CAST(value AS TEXT) AS value FROM counters');

  const count = db.transaction((messageId: string, type: string, publishedAt: number, deltas: CounterDeltas) => {
    if (seen.run(messageId, type, Date.now()).changes === 0) return false;
    add.run('events_seen', 1);
    latest.run('last_event_time', publishedAt);
    for (const [name, delta] of Object.entries(deltas)) add.run(name, delta);
    return true;
  });

  return {
    count: (messageId, type, publishedAt, deltas) => count.immediate(messageId, type, publishedAt, deltas),
    stats() {
      // read as text: the int64 counters arrive exactly (services/shared/cents.ts)
      const counters = new Map(
        (all.all() as { name: string; value: string }[]).map((row) => [row.name, BigInt(row.value)]),
      );
      const value = (name: string): bigint => counters.get(name) ?? 0n;
      const failuresByReason: Record<string, bigint> = {};
      for (const [name, total] of counters)
        if (name.startsWith(FAILURE_PREFIX)) failuresByReason[name.slice(FAILURE_PREFIX.length)] = total;
      return {
        ordersCreated: value('orders_created'),
        ordersPaid: value('orders_paid'),
        ordersFailed: value('orders_failed'),
        ordersCancelled: value('orders_cancelled'),
        revenueCents: value('revenue_cents'),
        unitsSold: value('units_sold'),
        failuresByReason,
        eventsSeen: value('events_seen'),
        lastEventTime: counters.has('last_event_time') ? new Date(Number(value('last_event_time'))) : undefined,
      };
    },
  };
}
