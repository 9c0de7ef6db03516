import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventBus, createMemoryTransport, type EventBus, type Transport } from 'warren';
import { OrderCreated, OrderPaid } from '../../gen/shop/orders/v1/events.js';
import { openDatabase, type ServiceDatabase } from './database.js';
import { createOutbox, OUTBOX_MIGRATION, type Outbox } from './outbox.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

describe('outbox', () => {
  let dir: string;
  let db: ServiceDatabase;
  let transport: Transport;
  let events: EventBus;
  let outbox: Outbox;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'warren-outbox-'));
    db = openDatabase('outbox', [OUTBOX_MIGRATION, 'CREATE TABLE things (id TEXT PRIMARY KEY);'], dir);
    transport = createMemoryTransport();
    events = createEventBus({ transport, service: 'spec', logger: silent });
    outbox = createOutbox({ db, events, logger: silent, types: [OrderCreated, OrderPaid], retryIntervalMs: 20 });
    outbox.start();
  });
  afterEach(async () => {
    await outbox.stop();
    await events.close();
    await transport.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes what a committed transaction added, with the id add() answered, then forgets it', async () => {
    const seen: { orderId: string; messageId: string }[] = [];
    await events.subscribe(
      OrderCreated,
      (event, ctx) => void seen.push({ orderId: event.orderId, messageId: ctx.messageId }),
      { group: 'spec' },
    );
    const messageId = db.transaction(() => {
      db.prepare("INSERT INTO things VALUES ('a')").run();
      return outbox.add(OrderCreated, { orderId: 'ord_a' });
    })();
    outbox.kick();
    await eventually(() => expect(seen).toEqual([{ orderId: 'ord_a', messageId }]));
    await eventually(() => expect(outbox.pending()).toBe(0));
  });

  it('publishes nothing for a transaction that rolled back', async () => {
    const seen: string[] = [];
    await events.subscribe(OrderCreated, (event) => void seen.push(event.orderId), { group: 'spec' });
    expect(() =>
      db.transaction(() => {
        outbox.add(OrderCreated, { orderId: 'ord_rolled_back' });
        throw new Error('the change failed');
      })(),
    ).toThrow('the change failed');
    db.transaction(() => outbox.add(OrderCreated, { orderId: 'ord_kept' }))();
    outbox.kick();
    await eventually(() => expect(seen).toEqual(['ord_kept']));
  });

  it('keeps events nobody can receive yet and publishes them, in order, once a group subscribes', async () => {
    db.transaction(() => {
      outbox.add(OrderCreated, { orderId: 'ord_1' });
      outbox.add(OrderPaid, { orderId: 'ord_1', totalCents: 100 });
    })();
    outbox.kick();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(outbox.pending()).toBe(2);

    const seen: string[] = [];
    await events.subscribe('shop.orders.v1.*', (event) => void seen.push(event.type), { group: 'late' });
    await eventually(() => expect(seen).toEqual(['shop.orders.v1.OrderCreated', 'shop.orders.v1.OrderPaid']));
    expect(outbox.pending()).toBe(0);
  });
});
