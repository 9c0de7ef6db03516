/**
 * Notifications' table. One row per order event (a unique `event_id`, the
 * event's message id), so an event delivered twice (at-least-once delivery)
 * is sent once: the second insert is ignored.
 */
import { randomBytes } from 'node:crypto';
import type { Notification } from '../../gen/shop/notifications/v1/notifications.js';
import type { ServiceDatabase } from '../shared/database.js';
import type { Page } from '../shared/paging.js';

/** Schema versions of notifications.db (append only). */
export const NOTIFICATION_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    create_time INTEGER NOT NULL
  );
  CREATE INDEX notifications_by_customer ON notifications (customer_id, seq);
  CREATE INDEX notifications_by_order ON notifications (order_id, seq);
  `,
];

/** A notification with its row's seq (for paging). */
export interface NotificationRow {
  readonly seq: number;
  readonly notification: Notification;
}

/** Notifications over notifications.db. */
export interface NotificationStore {
  /** Records a notification; false when one was already recorded for its event. */
  record(notification: Omit<Notification, 'id' | 'createTime'>): boolean;
  list(page: Page, filter: { customerId: string; orderId: string }): NotificationRow[];
}

interface Row {
  seq: number;
  id: string;
  event_id: string;
  event_type: string;
  customer_id: string;
  order_id: string;
  channel: string;
  subject: string;
  body: string;
  create_time: number;
}

/** Opens the store over a migrated database. */
export function createNotificationStore(db: ServiceDatabase): NotificationStore {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO notifications (id, event_id, event_type, customer_id, order_id, channel, subject, body, create_time)
     VALUES (@id, @eventId, @eventType, @customerId, @orderId, @channel, @subject, @body, @now)`,
  );
  const page = db.prepare(
    `SELECT * FROM notifications WHERE seq < @before AND (@customerId = '' OR customer_id = @customerId) AND (@orderId = '' OR order_id = @orderId)
     ORDER BY seq DESC LIMIT @limit`,
  );
  return {
    record(notification) {
      return (
        insert.run({ ...notification, id: `ntf_${randomBytes(9).toString('base64url')}`, now: Date.now() }).changes ===
        1
      );
    },
    list(at, filter) {
      return (page.all({ before: at.before, ...filter, limit: at.size + 1 }) as Row[]).map((row) => ({
        seq: row.seq,
        notification: {
          id: row.id,
          customerId: row.customer_id,
          orderId: row.order_id,
          channel: row.channel,
          subject: row.subject,
          body: row.body,
          eventType: row.event_type,
          eventId: row.event_id,
          createTime: new Date(row.create_time),
        },
      }));
    },
  };
}
