/**
 * Inventory's tables and the transactions that keep stock right: a
 * reservation takes every item or none, inside one IMMEDIATE transaction
 * (SQLite's write lock is taken before the first read), so two reservations
 * never both see the last unit, whether they run in one process or in
 * several sharing the file. `CHECK (available >= 0)` backs that up.
 */
import { Code, RpcError } from 'warren';
import {
  ReservationState,
  type Reservation,
  type ReservedItem,
  type ReserveItem,
  type Stock,
} from '../../gen/shop/inventory/v1/inventory.js';
import type { ServiceDatabase } from '../shared/database.js';
import { failedPrecondition } from '../shared/error-details.js';
import type { CatalogProduct } from './catalog.js';
import { parseItemsWithCents, stringifyWithCents } from '../shared/cents.js';

/** Schema versions of inventory.db (append only). */
export const INVENTORY_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    currency_code TEXT NOT NULL,
    available INTEGER NOT NULL CHECK (available >= 0),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0)
  );
  CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    state INTEGER NOT NULL,
    items TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    currency_code TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
  );
  `,
];

interface ProductRow {
  sku: string;
  name: string;
  /** CAST(unit_price_cents AS TEXT): the int64 exactly (see services/shared/cents.ts). */
  unit_price_cents_text: string;
  currency_code: string;
  available: number;
  reserved: number;
}

interface ReservationRow {
  id: string;
  state: number;
  items: string;
  /** CAST(total_cents AS TEXT): the int64 exactly. */
  total_cents_text: string;
  currency_code: string;
}

/** Stock and reservations over inventory.db. */
export interface StockStore {
  /** Adds catalogue products the database does not have yet; answers how many were added. */
  seed(products: readonly CatalogProduct[]): number;
  /** Reserves every item or none (see InventoryService.Reserve in the proto). */
  reserve(reservationId: string, items: readonly ReserveItem[]): Reservation;
  /** Releases a reservation, recording unknown ones as released. */
  release(reservationId: string): Reservation;
  stock(sku: string): Stock | undefined;
  list(): Stock[];
}

function toStock(row: ProductRow): Stock {
  return {
    sku: row.sku,
    name: row.name,
    unitPriceCents: BigInt(row.unit_price_cents_text),
    currencyCode: row.currency_code,
    available: row.available,
    reserved: row.reserved,
  };
}

function toReservation(row: ReservationRow): Reservation {
  return {
    id: row.id,
    state: row.state,
    items: parseItemsWithCents<ReservedItem>(row.items),
    totalCents: BigInt(row.total_cents_text),
    currencyCode: row.currency_code,
  };
}

/** Opens the store over a migrated database. */
export function createStockStore(db: ServiceDatabase): StockStore {
  const insertProduct = db.prepare(
    'INSERT OR IGNORE INTO products (sku, name, unit_price_cents, currency_code, available) VALUES (@sku, @name, @unitPriceCents, @currencyCode, @stock)',
  );
  const product = db.prepare(
    'SELECT *, CAST(unit_price_cents AS TEXT) AS unit_price_cents_text FROM products WHERE sku = ?',
  );
  const products = db.prepare(
    'SELECT *, CAST(unit_price_cents AS TEXT) AS unit_price_cents_text FROM products ORDER BY sku',
  );
  const take = db.prepare(
    'UPDATE products SET available = available - @quantity, reserved = reserved + @quantity WHERE sku = @sku AND available >= @quantity',
  );
  const giveBack = db.prepare(
    'UPDATE products SET available = available + @quantity, reserved = reserved - @quantity WHERE sku = @sku',
  );
  const reservation = db.prepare(
    'SELECT *, CAST(total_cents AS TEXT) AS total_cents_text FROM reservations WHERE id = ?',
  );
  const insertReservation = db.prepare(
    'INSERT INTO reservations (id, state, items, total_cents, currency_code, create_time, update_time) VALUES (@id, @state, @items, @totalCents, @currencyCode, @now, @now)',
  );
  const setState = db.prepare('UPDATE reservations SET state = ?, update_time = ? WHERE id = ?');

  const seed = db.transaction((catalog: readonly CatalogProduct[]) =>
    catalog.reduce((added, entry) => added + insertProduct.run(entry).changes, 0),
  );

  const reserve = db.transaction((id: string, items: readonly ReserveItem[]): Reservation => {
    const existing = reservation.get(id) as ReservationRow | undefined;
    if (existing) {
      if (existing.state === ReservationState.RESERVATION_STATE_RESERVED) return toReservation(existing);
      throw failedPrecondition(`reservation ${id} was released; it cannot take stock again`, [
        { type: 'RESERVATION', subject: `reservation:${id}`, description: 'released' },
      ]);
    }
    const rows = items.map((item) => {
      const row = product.get(item.sku) as ProductRow | undefined;
      if (!row) throw new RpcError(Code.NOT_FOUND, `no product ${item.sku} in the catalogue`);
      return row;
    });
    const short = items.flatMap((item, index) =>
      rows[index]!.available < item.quantity ? [{ item, available: rows[index]!.available }] : [],
    );
    if (short.length > 0) {
      throw failedPrecondition(
        `not enough stock: ${short.map(({ item, available }) => `${item.sku}: ${item.quantity} ordered, ${available} available`).join('; ')}`,
        short.map(({ item, available }) => ({
          type: 'STOCK',
          subject: `sku:${item.sku}`,
          description: `${item.quantity} ordered, ${available} available`,
        })),
      );
    }
    const currencies = new Set(rows.map((row) => row.currency_code));
    if (currencies.size > 1)
      throw new RpcError(
        Code.FAILED_PRECONDITION,
        `items are priced in different currencies (${[...currencies].join(', ')}); order them separately`,
      );
    for (const item of items) {
      if (take.run({ sku: item.sku, quantity: item.quantity }).changes !== 1)
        throw new RpcError(Code.INTERNAL, `stock of ${item.sku} changed inside a transaction`);
    }
    const reserved: ReservedItem[] = items.map((item, index) => ({
      sku: item.sku,
      quantity: item.quantity,
      unitPriceCents: BigInt(rows[index]!.unit_price_cents_text),
    }));
    const created = {
      id,
      state: ReservationState.RESERVATION_STATE_RESERVED,
      items: stringifyWithCents(reserved),
      totalCents: reserved.reduce((sum, item) => sum + BigInt(item.quantity) * item.unitPriceCents, 0n),
      currencyCode: rows[0]?.currency_code ?? '',
      now: Date.now(),
    };
    insertReservation.run(created);
    return {
      id,
      state: created.state,
      items: reserved,
      totalCents: created.totalCents,
      currencyCode: created.currencyCode,
    };
  });

  const release = db.transaction((id: string): Reservation => {
    const existing = reservation.get(id) as ReservationRow | undefined;
    const released = ReservationState.RESERVATION_STATE_RELEASED;
    if (!existing) {
      // A tombstone: a Reserve still on its way (the caller gave up on it) must not take stock later.
      insertReservation.run({ id, state: released, items: '[]', totalCents: 0n, currencyCode: '', now: Date.now() });
      return { id, state: released, items: [], totalCents: 0n, currencyCode: '' };
    }
    if (existing.state === released) return toReservation(existing);
    const found = toReservation(existing);
    for (const item of found.items) giveBack.run({ sku: item.sku, quantity: item.quantity });
    setState.run(released, Date.now(), id);
    return { ...found, state: released };
  });

  return {
    seed: (catalog) => seed.immediate(catalog),
    reserve: (id, items) => reserve.immediate(id, items),
    release: (id) => release.immediate(id),
    stock: (sku) => {
      const row = product.get(sku) as ProductRow | undefined;
      return row && toStock(row);
    },
    list: () => (products.all() as ProductRow[]).map(toStock),
  };
}
