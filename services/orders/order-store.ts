/**
 * Orders' tables: `orders` (a unique `request_id`, so a retried create finds
 * the order the first one made) and the outbox. Every state change and the
 * event announcing it are written in one transaction; status changes only
 * leave PENDING once (`WHERE status = PENDING`), so two instances finishing
 * the same order cannot both announce it.
 */
import { randomBytes } from 'node:crypto';
import { type Code, type ErrorDetail } from 'warren';
import { OrderCancelled, OrderCreated, OrderFailed, OrderPaid } from '../../gen/shop/orders/v1/events.js';
import {
  OrderStatus,
  type FailureReason,
  type LineItem,
  type Order,
  type OrderItem,
} from '../../gen/shop/orders/v1/orders.js';
import type { ServiceDatabase } from '../shared/database.js';
import { OUTBOX_MIGRATION, type Outbox } from '../shared/outbox.js';
import type { Page } from '../shared/paging.js';
import { parseItemsWithCents, stringifyWithCents } from '../shared/cents.js';

/** Schema versions of orders.db (append only). */
export const ORDER_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    payment_token TEXT NOT NULL,
    items TEXT NOT NULL,
    total_cents INTEGER NOT NULL DEFAULT 0,
    currency_code TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL,
    payment_id TEXT NOT NULL DEFAULT '',
    failure_reason INTEGER NOT NULL DEFAULT 0,
    failure_code INTEGER NOT NULL DEFAULT 0,
    failure_details TEXT NOT NULL DEFAULT '[]',
    status_message TEXT NOT NULL DEFAULT '',
    release_pending INTEGER NOT NULL DEFAULT 0,
    refund_pending INTEGER NOT NULL DEFAULT 0,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
  );
  CREATE INDEX orders_by_customer ON orders (customer_id, seq);
  CREATE INDEX orders_pending ON orders (update_time) WHERE status = ${OrderStatus.ORDER_STATUS_PENDING};
  CREATE INDEX orders_compensating ON orders (seq) WHERE release_pending = 1 OR refund_pending = 1;
  `,
  OUTBOX_MIGRATION,
];

/** An order with what only the order service keeps. */
export interface OrderRecord {
  readonly seq: number;
  readonly order: Order;
  /** Hash of the create request, to tell a retry from a reused request id. */
  readonly fingerprint: string;
  readonly paymentToken: string;
  /** The error a failed create answered (and answers again on retry). */
  readonly failure: { readonly code: Code; readonly details: readonly ErrorDetail[] } | undefined;
  /** Stock still to give back to inventory. */
  readonly releasePending: boolean;
  /** Payment still to refund (or void) at payments. */
  readonly refundPending: boolean;
}

/** What a create records. */
export interface NewOrder {
  readonly requestId: string;
  readonly fingerprint: string;
  readonly customerId: string;
  readonly items: readonly LineItem[];
  readonly paymentToken: string;
}

/** How an order failed. */
export interface OrderFailure {
  readonly reason: FailureReason;
  readonly code: Code;
  readonly message: string;
  readonly details: readonly ErrorDetail[];
  readonly release: boolean;
  readonly refund: boolean;
}

interface Row {
  seq: number;
  id: string;
  request_id: string;
  fingerprint: string;
  customer_id: string;
  payment_token: string;
  items: string;
  /** CAST(total_cents AS TEXT): the int64 exactly (see services/shared/cents.ts). */
  total_cents_text: string;
  currency_code: string;
  status: number;
  payment_id: string;
  failure_reason: number;
  failure_code: number;
  failure_details: string;
  status_message: string;
  release_pending: number;
  refund_pending: number;
  create_time: number;
  update_time: number;
}

function toRecord(row: Row): OrderRecord {
  const details = (JSON.parse(row.failure_details) as { typeUrl: string; value: string }[]).map((detail) => ({
    typeUrl: detail.typeUrl,
    value: Buffer.from(detail.value, 'base64'),
  }));
  return {
    seq: row.seq,
    fingerprint: row.fingerprint,
    paymentToken: row.payment_token,
    failure: row.status === OrderStatus.ORDER_STATUS_FAILED ? { code: row.failure_code as Code, details } : undefined,
    releasePending: row.release_pending === 1,
    refundPending: row.refund_pending === 1,
    order: {
      id: row.id,
      requestId: row.request_id,
      customerId: row.customer_id,
      items: parseItemsWithCents<OrderItem>(row.items),
      totalCents: BigInt(row.total_cents_text),
      currencyCode: row.currency_code,
      status: row.status,
      paymentId: row.payment_id,
      failureReason: row.failure_reason,
      statusMessage: row.status_message,
      createTime: new Date(row.create_time),
      updateTime: new Date(row.update_time),
    },
  };
}

/** Orders over orders.db; every change that others must hear of goes through the outbox (kicked after each commit). */
export interface OrderStore {
  /** The order of `requestId`, made now (PENDING, OrderCreated queued) unless it existed. */
  create(input: NewOrder): { record: OrderRecord; created: boolean };
  get(id: string): OrderRecord | undefined;
  list(page: Page, customerId: string): OrderRecord[];
  /** Records the reserved, priced items of a pending order. */
  price(id: string, items: readonly OrderItem[], totalCents: bigint, currencyCode: string): OrderRecord;
  /** PENDING → PAID with OrderPaid. */
  paid(id: string, paymentId: string): OrderRecord;
  /** PENDING → FAILED with OrderFailed and the compensations it needs. */
  failed(id: string, failure: OrderFailure): OrderRecord;
  /** PAID → CANCELLED with OrderCancelled, a refund and a release to do. Other states: unchanged. */
  cancel(id: string, reason: string): OrderRecord;
  /** Marks a compensation done. */
  compensated(id: string, what: 'release' | 'refund'): void;
  /** Orders with a compensation still to do, oldest first. */
  compensating(limit: number): OrderRecord[];
  /** PENDING orders untouched since `before` (ms epoch): their processing was interrupted. */
  stalePending(before: number, limit: number): OrderRecord[];
}

/** Opens the store over a migrated database and its outbox. */
export function createOrderStore(db: ServiceDatabase, outbox: Outbox): OrderStore {
  const byId = db.prepare('SELECT *, CAST(total_cents AS TEXT) AS total_cents_text FROM orders WHERE id = ?');
  const byRequest = db.prepare(
    'SELECT *, CAST(total_cents AS TEXT) AS total_cents_text FROM orders WHERE request_id = ?',
  );
  const insert = db.prepare(
    `INSERT INTO orders (id, request_id, fingerprint, customer_id, payment_token, items, status, create_time, update_time)
     VALUES (@id, @requestId, @fingerprint, @customerId, @paymentToken, @items, ${OrderStatus.ORDER_STATUS_PENDING}, @now, @now)`,
  );
  const page = db.prepare(
    "SELECT *, CAST(total_cents AS TEXT) AS total_cents_text FROM orders WHERE seq < @before AND (@customerId = '' OR customer_id = @customerId) ORDER BY seq DESC LIMIT @limit",
  );
  const setPrice = db.prepare(
    `UPDATE orders SET items = ?, total_cents = ?, currency_code = ?, update_time = ? WHERE id = ? AND status = ${OrderStatus.ORDER_STATUS_PENDING}`,
  );
  const setPaid = db.prepare(
    `UPDATE orders SET status = ${OrderStatus.ORDER_STATUS_PAID}, payment_id = ?, update_time = ? WHERE id = ? AND status = ${OrderStatus.ORDER_STATUS_PENDING}`,
  );
  const setFailed = db.prepare(
    `UPDATE orders SET status = ${OrderStatus.ORDER_STATUS_FAILED}, failure_reason = @reason, failure_code = @code, failure_details = @details,
       status_message = @message, release_pending = @release, refund_pending = @refund, update_time = @now WHERE id = @id AND status = ${OrderStatus.ORDER_STATUS_PENDING}`,
  );
  const setCancelled = db.prepare(
    `UPDATE orders SET status = ${OrderStatus.ORDER_STATUS_CANCELLED}, status_message = ?, release_pending = 1, refund_pending = 1, update_time = ?
     WHERE id = ? AND status = ${OrderStatus.ORDER_STATUS_PAID}`,
  );
  const clearRelease = db.prepare('UPDATE orders SET release_pending = 0 WHERE id = ?');
  const clearRefund = db.prepare('UPDATE orders SET refund_pending = 0 WHERE id = ?');
  const compensating = db.prepare(
    'SELECT *, CAST(total_cents AS TEXT) AS total_cents_text FROM orders WHERE release_pending = 1 OR refund_pending = 1 ORDER BY seq LIMIT ?',
  );
  const stale = db.prepare(
    `SELECT *, CAST(total_cents AS TEXT) AS total_cents_text FROM orders WHERE status = ${OrderStatus.ORDER_STATUS_PENDING} AND update_time < ? ORDER BY seq LIMIT ?`,
  );
  const read = (id: string): OrderRecord => toRecord(byId.get(id) as Row);
  /** After a commit that may have added events: let the relay publish them. */
  const committed = <T>(result: T): T => {
    outbox.kick();
    return result;
  };

  const create = db.transaction((input: NewOrder) => {
    const existing = byRequest.get(input.requestId) as Row | undefined;
    if (existing) return { record: toRecord(existing), created: false };
    const id = `ord_${randomBytes(9).toString('base64url')}`;
    const now = Date.now();
    const items: OrderItem[] = input.items.map((item) => ({
      sku: item.sku,
      quantity: item.quantity,
      unitPriceCents: 0n,
    }));
    insert.run({ ...input, id, items: stringifyWithCents(items), now });
    outbox.add(OrderCreated, {
      orderId: id,
      customerId: input.customerId,
      items: [...input.items],
      createTime: new Date(now),
    });
    return { record: read(id), created: true };
  });

  const paid = db.transaction((id: string, paymentId: string) => {
    if (setPaid.run(paymentId, Date.now(), id).changes === 1) {
      const { order } = read(id);
      outbox.add(OrderPaid, {
        orderId: id,
        customerId: order.customerId,
        items: order.items,
        totalCents: order.totalCents,
        currencyCode: order.currencyCode,
        paymentId,
      });
    }
    return read(id);
  });

  const failed = db.transaction((id: string, failure: OrderFailure) => {
    const details = JSON.stringify(
      failure.details.map((detail) => ({
        typeUrl: detail.typeUrl,
        value: Buffer.from(detail.value).toString('base64'),
      })),
    );
    const changed = setFailed.run({
      id,
      reason: failure.reason,
      code: failure.code,
      details,
      message: failure.message,
      release: failure.release ? 1 : 0,
      refund: failure.refund ? 1 : 0,
      now: Date.now(),
    });
    if (changed.changes === 1) {
      const { order } = read(id);
      outbox.add(OrderFailed, {
        orderId: id,
        customerId: order.customerId,
        reason: failure.reason,
        message: failure.message,
      });
    }
    return read(id);
  });

  const cancel = db.transaction((id: string, reason: string) => {
    if (setCancelled.run(reason, Date.now(), id).changes === 1) {
      const { order } = read(id);
      outbox.add(OrderCancelled, {
        orderId: id,
        customerId: order.customerId,
        refundedCents: order.totalCents,
        currencyCode: order.currencyCode,
        reason,
        items: order.items,
      });
    }
    return read(id);
  });

  return {
    create: (input) => committed(create.immediate(input)),
    get: (id) => {
      const row = byId.get(id) as Row | undefined;
      return row && toRecord(row);
    },
    list: (at, customerId) => (page.all({ before: at.before, customerId, limit: at.size + 1 }) as Row[]).map(toRecord),
    price(id, items, totalCents, currencyCode) {
      setPrice.run(stringifyWithCents(items), totalCents, currencyCode, Date.now(), id);
      return read(id);
    },
    paid: (id, paymentId) => committed(paid.immediate(id, paymentId)),
    failed: (id, failure) => committed(failed.immediate(id, failure)),
    cancel: (id, reason) => committed(cancel.immediate(id, reason)),
    compensated(id, what) {
      (what === 'release' ? clearRelease : clearRefund).run(id);
    },
    compensating: (limit) => (compensating.all(limit) as Row[]).map(toRecord),
    stalePending: (before, limit) => (stale.all(before, limit) as Row[]).map(toRecord),
  };
}
