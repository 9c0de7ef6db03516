/**
 * Payments' table: one row per order (a unique order_id), so a retried
 * Charge or Refund finds what the first one did instead of doing it twice.
 */
import { randomBytes } from 'node:crypto';
import { PaymentStatus, type ChargeRequest, type Payment } from '../../gen/shop/payments/v1/payments.js';
import type { ServiceDatabase } from '../shared/database.js';
import type { Page } from '../shared/paging.js';

/** Schema versions of payments.db (append only). */
export const PAYMENT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE payments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency_code TEXT NOT NULL,
    status INTEGER NOT NULL,
    status_message TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
  );
  `,
];

/** A payment with its row's seq (for paging). */
export interface PaymentRow {
  readonly seq: number;
  readonly payment: Payment;
}

interface Row {
  seq: number;
  id: string;
  order_id: string;
  customer_id: string;
  /** CAST(amount_cents AS TEXT): read as text so the int64 arrives exactly (a number loses digits beyond 2^53). */
  amount_cents_text: string;
  currency_code: string;
  status: number;
  status_message: string;
  create_time: number;
  update_time: number;
}

/** Payments over payments.db. */
export interface PaymentStore {
  /**
   * The order's payment: the existing one if any (whatever its status),
   * else a new one, CAPTURED, or DECLINED when `declineReason` is set.
   */
  charge(request: ChargeRequest, declineReason: string | undefined): { payment: Payment; created: boolean };
  /** Refunds a captured payment; voids an order with none; answers others as they are. */
  refund(orderId: string, reason: string): Payment;
  list(page: Page, orderId: string): PaymentRow[];
}

function toPayment(row: Row): Payment {
  return {
    id: row.id,
    orderId: row.order_id,
    customerId: row.customer_id,
    amountCents: BigInt(row.amount_cents_text),
    currencyCode: row.currency_code,
    status: row.status,
    statusMessage: row.status_message,
    createTime: new Date(row.create_time),
    updateTime: new Date(row.update_time),
  };
}

/** Opens the store over a migrated database. */
export function createPaymentStore(db: ServiceDatabase): PaymentStore {
  const byOrder = db.prepare(
    'SELECT *, CAST(amount_cents AS TEXT) AS amount_cents_text FROM payments WHERE order_id = ?',
  );
  const insert = db.prepare(
    `INSERT INTO payments (id, order_id, customer_id, amount_cents, currency_code, status, status_message, create_time, update_time)
     VALUES (@id, @orderId, @customerId, @amountCents, @currencyCode, @status, @statusMessage, @now, @now)`,
  );
  const setStatus = db.prepare(
    'UPDATE payments SET status = ?, status_message = ?, update_time = ? WHERE order_id = ?',
  );
  const page = db.prepare(
    "SELECT *, CAST(amount_cents AS TEXT) AS amount_cents_text FROM payments WHERE seq < @before AND (@orderId = '' OR order_id = @orderId) ORDER BY seq DESC LIMIT @limit",
  );
  const newId = (): string => `pay_${randomBytes(9).toString('base64url')}`;

  const charge = db.transaction((request: ChargeRequest, declineReason: string | undefined) => {
    const existing = byOrder.get(request.orderId) as Row | undefined;
    if (existing) return { payment: toPayment(existing), created: false };
    const status =
      declineReason === undefined ? PaymentStatus.PAYMENT_STATUS_CAPTURED : PaymentStatus.PAYMENT_STATUS_DECLINED;
    insert.run({ ...request, id: newId(), status, statusMessage: declineReason ?? '', now: Date.now() });
    return { payment: toPayment(byOrder.get(request.orderId) as Row), created: true };
  });

  const refund = db.transaction((orderId: string, reason: string): Payment => {
    const existing = byOrder.get(orderId) as Row | undefined;
    if (!existing) {
      // Voided: a Charge still on its way for this order is refused when it arrives.
      insert.run({
        id: newId(),
        orderId,
        customerId: '',
        amountCents: 0n,
        currencyCode: '',
        status: PaymentStatus.PAYMENT_STATUS_VOIDED,
        statusMessage: reason,
        now: Date.now(),
      });
    } else if (existing.status === PaymentStatus.PAYMENT_STATUS_CAPTURED) {
      setStatus.run(PaymentStatus.PAYMENT_STATUS_REFUNDED, reason, Date.now(), orderId);
    }
    return toPayment(byOrder.get(orderId) as Row);
  });

  return {
    charge: (request, declineReason) => charge.immediate(request, declineReason),
    refund: (orderId, reason) => refund.immediate(orderId, reason),
    list: (at, orderId) =>
      (page.all({ before: at.before, orderId, limit: at.size + 1 }) as Row[]).map((row) => ({
        seq: row.seq,
        payment: toPayment(row),
      })),
  };
}
