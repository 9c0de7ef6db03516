import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Code, RpcError } from 'warren';
import { ReservationState } from '../../gen/shop/inventory/v1/inventory.js';
import { openDatabase, type ServiceDatabase } from '../shared/database.js';
import { createStockStore, INVENTORY_MIGRATIONS, type StockStore } from './stock-store.js';

describe('stock store', () => {
  let dir: string;
  let db: ServiceDatabase;
  let store: StockStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'warren-stock-'));
    db = openDatabase('inventory', INVENTORY_MIGRATIONS, dir);
    store = createStockStore(db);
    store.seed([
      { sku: 'MUG', name: 'Mug', unitPriceCents: 1200, currencyCode: 'EUR', stock: 3 },
      { sku: 'TEE', name: 'Tee', unitPriceCents: 2500, currencyCode: 'EUR', stock: 1 },
    ]);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const available = (sku: string): number => store.stock(sku)!.available;

  it('reserves every item at its catalogue price, and answers the same reservation again', () => {
    const reservation = store.reserve('ord_1', [
      { sku: 'MUG', quantity: 2 },
      { sku: 'TEE', quantity: 1 },
    ]);
    expect(reservation).toEqual({
      id: 'ord_1',
      state: ReservationState.RESERVATION_STATE_RESERVED,
      totalCents: 4900n,
      currencyCode: 'EUR',
      items: [
        { sku: 'MUG', quantity: 2, unitPriceCents: 1200n },
        { sku: 'TEE', quantity: 1, unitPriceCents: 2500n },
      ],
    });
    expect(
      store.reserve('ord_1', [
        { sku: 'MUG', quantity: 2 },
        { sku: 'TEE', quantity: 1 },
      ]),
    ).toEqual(reservation);
    expect(store.stock('MUG')).toMatchObject({ available: 1, reserved: 2 });
  });

  it('takes nothing when any item is short, naming each short item', () => {
    let error: RpcError | undefined;
    try {
      store.reserve('ord_2', [
        { sku: 'MUG', quantity: 1 },
        { sku: 'TEE', quantity: 2 },
      ]);
    } catch (caught) {
      error = caught as RpcError;
    }
    expect(error?.code).toBe(Code.FAILED_PRECONDITION);
    expect(error?.rawMessage).toBe('not enough stock: TEE: 2 ordered, 1 available');
    expect(error?.details.map((detail) => detail.typeUrl)).toEqual([
      'type.googleapis.com/google.rpc.PreconditionFailure',
    ]);
    expect([available('MUG'), available('TEE')]).toEqual([3, 1]);
    expect(() => store.reserve('ord_3', [{ sku: 'NOPE', quantity: 1 }])).toThrow(
      expect.objectContaining({ code: Code.NOT_FOUND }),
    );
  });

  it('never goes below zero, however the reservations come', () => {
    const outcomes = Array.from({ length: 10 }, (_, index) => {
      try {
        store.reserve(`race_${index}`, [{ sku: 'MUG', quantity: 1 }]);
        return 'ok';
      } catch {
        return 'short';
      }
    });
    expect(outcomes.filter((outcome) => outcome === 'ok')).toHaveLength(3);
    expect(store.stock('MUG')).toMatchObject({ available: 0, reserved: 3 });
    expect(() => db.prepare("UPDATE products SET available = -1 WHERE sku = 'MUG'").run()).toThrow(/CHECK constraint/);
  });

  it('releases once; an unknown id is remembered as released so a late reserve cannot take stock', () => {
    store.reserve('ord_4', [{ sku: 'MUG', quantity: 2 }]);
    expect(store.release('ord_4').state).toBe(ReservationState.RESERVATION_STATE_RELEASED);
    expect(store.release('ord_4').state).toBe(ReservationState.RESERVATION_STATE_RELEASED);
    expect(store.stock('MUG')).toMatchObject({ available: 3, reserved: 0 });

    expect(store.release('ord_late')).toMatchObject({ state: ReservationState.RESERVATION_STATE_RELEASED, items: [] });
    expect(() => store.reserve('ord_late', [{ sku: 'MUG', quantity: 1 }])).toThrow(
      expect.objectContaining({ code: Code.FAILED_PRECONDITION }),
    );
    expect(available('MUG')).toBe(3);
  });

  it('seeding again never overwrites stock already sold', () => {
    store.reserve('ord_5', [{ sku: 'MUG', quantity: 3 }]);
    expect(
      store.seed([
        { sku: 'MUG', name: 'Mug', unitPriceCents: 1200, currencyCode: 'EUR', stock: 3 },
        { sku: 'CAP', name: 'Cap', unitPriceCents: 900, currencyCode: 'EUR', stock: 7 },
      ]),
    ).toBe(1);
    expect(available('MUG')).toBe(0);
    expect(store.list().map((stock) => stock.sku)).toEqual(['CAP', 'MUG', 'TEE']);
  });
});
