import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, connectAmqp, createClient } from '../core/index.js';
import { GetStockRequest, InventoryServiceDefinition } from '../gen/shop/inventory/v1/inventory.js';
import { createTestVhost, listQueues, type TestVhost } from './support/broker.js';
import { runScript, type ChildScript } from './support/child-process.js';
import { waitUntil } from './support/mesh.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const QUEUE = 'rpc.shop.inventory.v1.InventoryService';

/** Whether the child exits within `ms`. */
function exitsWithin(child: ChildScript, ms: number): Promise<boolean> {
  return Promise.race([
    child.exited.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);
}

// A real example service (services/shared/run-service.ts) is not killed by one request nor by a lost connection:
// it refuses to reply to a forged direct reply-to token (which makes RabbitMQ 3.10 close the replying connection),
// and when the broker drops its connection anyway it reconnects through the transport instead of exiting.
describe('a service process stays up', () => {
  let vhost: TestVhost;
  let dir: string;
  let inventory: ChildScript;
  let transport: AmqpTransport;

  beforeAll(async () => {
    vhost = await createTestVhost('service-process');
    dir = mkdtempSync(join(tmpdir(), 'warren-service-process-'));
    const catalog = join(dir, 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify([{ sku: 'BOOK', name: 'Book', unitPriceCents: 1500, currencyCode: 'EUR', stock: 10 }]),
    );
    inventory = runScript(join(root, 'services', 'inventory', 'main.ts'), {
      AMQP_URL: vhost.url,
      DATA_DIR: dir,
      INVENTORY_CATALOG: catalog,
      WARREN_LOG_LEVEL: 'warn',
      WARREN_MESH_REPORT_MS: '0',
    });
    await inventory.waitFor(/^ready inventory$/, 45_000);
    transport = await connectAmqp({ url: vhost.url });
  }, 60_000);

  afterAll(async () => {
    inventory?.kill();
    await inventory?.exited;
    await transport?.close();
    await vhost?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops a request whose reply_to is a forged direct reply-to token, and keeps serving', async () => {
    const raw = await connect(vhost.url);
    const channel = await raw.createChannel();
    const body = Buffer.from(GetStockRequest.encode(GetStockRequest.fromPartial({ sku: 'BOOK' })).finish());
    channel.sendToQueue(QUEUE, body, {
      type: 'shop.inventory.v1.InventoryService/GetStock',
      replyTo: 'amq.rabbitmq.reply-to.g1h2AAAAAAAAAAAAforged.AAAAAAAAAAAAAAAAAAAAAA==',
      correlationId: 'poison',
      headers: { 'warren-deadline': Date.now() + 5000 },
    });
    await raw.close();
    // protocol 1 replied to it: the broker dropped inventory's connection, and run-service exited on that
    expect(await exitsWithin(inventory, 8000)).toBe(false);
    const stock = await createClient(InventoryServiceDefinition, transport).getStock(
      { sku: 'BOOK' },
      { timeoutMs: 5000 },
    );
    expect(stock.stock?.available).toBe(10);
    expect((await listQueues(vhost.name)).find((q) => q.name === QUEUE)?.messages).toBe(0);
  });

  it('reconnects by itself when the broker closes its connection, instead of exiting', async () => {
    const { stdout } = await run('rabbitmqctl', [
      'list_connections',
      '-p',
      vhost.name,
      '--quiet',
      '--no-table-headers',
      'pid',
      'client_properties',
    ]);
    const line = stdout.split('\n').find((entry) => entry.includes(`shop-inventory-${inventory.pid}`));
    expect(line).toBeDefined();
    await run('rabbitmqctl', [
      'close_connection',
      line!.trim().split(/\s+/)[0]!,
      'test: broker dropped the connection',
    ]);
    expect(await exitsWithin(inventory, 3000)).toBe(false);
    const client = createClient(InventoryServiceDefinition, transport);
    const stock = await waitUntil(
      'inventory serving again',
      () => client.getStock({ sku: 'BOOK' }, { timeoutMs: 2000 }).catch(() => undefined),
      (answer) => answer !== undefined,
      20_000,
    );
    expect(stock!.stock?.available).toBe(10);
  });
});
