import { existsSync } from 'node:fs';
import { Code as ConnectCode, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import type { FileRegistry } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufCurl, GATEWAY_GRPC_PROTOS, grpcJsClient, grpcUnary, protoRegistry } from './support/grpc-clients.js';
import { startMesh, type Mesh } from './support/mesh.js';

const INVENTORY = 'shop.inventory.v1.InventoryService';
const ORDERS = 'shop.orders.v1.OrderService';
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** The gateway's deadline cap in this mesh: a stopped service answers DEADLINE_EXCEEDED after it. */
const MAX_TIMEOUT_MS = 2000;

/** A page at the gateway's origin that calls GetStock with the Connect protocol (JSON POST and GET), as connect-web does. */
const PAGE = `<!doctype html><html><body><pre id="stock">loading</pre><pre id="missing">loading</pre><pre id="get">loading</pre><script>
const call = (sku) => fetch('/${INVENTORY}/GetStock', { method: 'POST', headers: { 'content-type': 'application/json', 'connect-protocol-version': '1' }, body: JSON.stringify({ sku }) })
  .then(async (response) => ({ status: response.status, body: await response.json() }));
call('MUG').then((answer) => { document.getElementById('stock').textContent = JSON.stringify(answer); });
call('NOPE').then((answer) => { document.getElementById('missing').textContent = JSON.stringify(answer); });
fetch('/${INVENTORY}/GetStock?connect=v1&encoding=json&message=' + encodeURIComponent(JSON.stringify({ sku: 'MUG' })))
  .then(async (response) => { document.getElementById('get').textContent = JSON.stringify({ status: response.status, body: await response.json() }); });
</script></body></html>`;

// The example shop behind the gateway, called by real gRPC-family clients:
// buf curl (reflection only) in all three protocols, grpc-js, Connect-ES,
// and a page in headless Chromium.
describe('the shop over gRPC, gRPC-Web and Connect', () => {
  let mesh: Mesh;
  let registry: FileRegistry;
  let address: string;

  beforeAll(async () => {
    [mesh, registry] = await Promise.all([
      startMesh('gw-grpc-shop', {
        catalog: [{ sku: 'MUG', name: 'Mug', unitPriceCents: 1200, currencyCode: 'EUR', stock: 1000 }],
        gatewayEnv: { GATEWAY_MAX_TIMEOUT_MS: String(MAX_TIMEOUT_MS) },
      }),
      protoRegistry(),
    ]);
    address = mesh.base.replace('http://', '');
  }, 120_000);
  afterAll(async () => {
    await mesh?.close();
  });

  for (const protocol of ['connect', 'grpc', 'grpcweb'] as const) {
    it(`buf curl --protocol ${protocol}: GetStock, CreateOrder and a NOT_FOUND, schema from reflection`, async () => {
      const stock = await bufCurl(mesh.base, protocol, `${INVENTORY}/GetStock`, { sku: 'MUG' });
      expect(stock.ok, stock.stderr).toBe(true);
      expect(stock.json).toMatchObject({ stock: { sku: 'MUG', name: 'Mug', unitPriceCents: '1200' } });
      const order = await bufCurl(mesh.base, protocol, `${ORDERS}/CreateOrder`, {
        requestId: `buf-${protocol}`,
        customerId: 'buf',
        items: [{ sku: 'MUG', quantity: 1 }],
        paymentToken: 'tok_visa',
      });
      expect(order.ok, order.stderr).toBe(true);
      expect(order.json.order).toMatchObject({ customerId: 'buf', items: [{ sku: 'MUG', quantity: 1 }] });
      const missing = await bufCurl(mesh.base, protocol, `${INVENTORY}/GetStock`, { sku: 'NOPE' });
      expect(missing.ok).toBe(false);
      expect(missing.json).toMatchObject({ code: 'not_found', message: 'no product NOPE in the catalogue' });
    });
  }

  it('grpc-js: GetStock and CreateOrder with metadata and a deadline, NOT_FOUND, and a health check of inventory', async () => {
    const inventory = grpcJsClient('shop/inventory/v1/inventory.proto', INVENTORY, address);
    const orders = grpcJsClient('shop/orders/v1/orders.proto', ORDERS, address);
    const health = grpcJsClient('grpc/health/v1/health.proto', 'grpc.health.v1.Health', address, [GATEWAY_GRPC_PROTOS]);
    try {
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', 'grpc-js-stock');
      const stock = await grpcUnary(inventory, 'getStock', { sku: 'MUG' }, metadata, { deadline: Date.now() + 5000 });
      expect(stock.reply.stock).toMatchObject({ sku: 'MUG', unitPriceCents: '1200' });
      expect(stock.headers.get('x-request-id')).toEqual(['grpc-js-stock']);
      const created = await grpcUnary(
        orders,
        'createOrder',
        {
          requestId: 'grpc-js-1',
          customerId: 'grpc-js',
          items: [{ sku: 'MUG', quantity: 2 }],
          paymentToken: 'tok_visa',
        },
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
      );
      expect(created.reply.order).toMatchObject({ customerId: 'grpc-js', totalCents: '2400' });
      const missing = (await grpcUnary(inventory, 'getStock', { sku: 'NOPE' }).catch(
        (caught: grpc.ServiceError) => caught,
      )) as grpc.ServiceError;
      expect(missing.code).toBe(grpc.status.NOT_FOUND);
      expect((await grpcUnary(health, 'check', { service: INVENTORY })).reply.status).toBe('SERVING');
    } finally {
      inventory.close();
      orders.close();
      health.close();
    }
  });

  it('Connect-ES: GetStock in JSON and binary, CreateOrder, NOT_FOUND', async () => {
    for (const useBinaryFormat of [false, true]) {
      const transport = createConnectTransport({
        baseUrl: mesh.base,
        httpVersion: useBinaryFormat ? '2' : '1.1',
        useBinaryFormat,
      });
      const inventory = createClient(registry.getService(INVENTORY)!, transport) as any;
      const orders = createClient(registry.getService(ORDERS)!, transport) as any;
      const { stock } = await inventory.getStock({ sku: 'MUG' }, { timeoutMs: 5000 });
      expect(stock).toMatchObject({ sku: 'MUG', unitPriceCents: 1200n });
      const { order } = await orders.createOrder({
        requestId: `connect-${useBinaryFormat}`,
        customerId: 'connect',
        items: [{ sku: 'MUG', quantity: 1 }],
        paymentToken: 'tok_visa',
      });
      expect(order.totalCents).toBe(1200n);
      const missing = await inventory.getStock({ sku: 'NOPE' }).catch((caught: unknown) => caught);
      expect(missing).toBeInstanceOf(ConnectError);
      expect((missing as ConnectError).code).toBe(ConnectCode.NotFound);
    }
  });

  it('a page in headless Chromium calls GetStock over Connect (POST and GET), errors included', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // the page itself is handed over at the gateway's origin; every call it makes goes to the real gateway
      await page.route(`${mesh.base}/connect-page.html`, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: PAGE }),
      );
      await page.goto(`${mesh.base}/connect-page.html`);
      const read = async (id: string) => {
        await page.waitForFunction(`document.getElementById('${id}').textContent !== 'loading'`, undefined, {
          timeout: 15_000,
        });
        return JSON.parse((await page.textContent(`#${id}`))!) as { status: number; body: any };
      };
      expect(await read('stock')).toMatchObject({ status: 200, body: { stock: { sku: 'MUG', name: 'Mug' } } });
      expect(await read('missing')).toMatchObject({ status: 404, body: { code: 'not_found' } });
      expect(await read('get')).toMatchObject({ status: 200, body: { stock: { sku: 'MUG' } } });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  // last: it stops inventory
  it('DEADLINE_EXCEEDED from the gateway when inventory does not answer, in every protocol', async () => {
    const inventory = mesh.processes.get('inventory')!;
    inventory.kill('SIGSTOP');
    try {
      for (const protocol of ['connect', 'grpc', 'grpcweb'] as const) {
        // the client allows 30 s; the gateway caps the deadline at 2 s and answers on its own
        const stuck = await bufCurl(mesh.base, protocol, `${INVENTORY}/GetStock`, { sku: 'MUG' }, ['--timeout', '30s']);
        expect(stuck.ok).toBe(false);
        expect(stuck.json).toMatchObject({
          code: 'deadline_exceeded',
          message: expect.stringContaining(`deadline of ${MAX_TIMEOUT_MS} ms exceeded`),
        });
      }
      const order = await bufCurl(
        mesh.base,
        'grpc',
        `${ORDERS}/CreateOrder`,
        { requestId: 'stuck-1', customerId: 'buf', items: [{ sku: 'MUG', quantity: 1 }], paymentToken: 'tok_visa' },
        ['--timeout', '30s'],
      );
      expect(order.json).toMatchObject({ code: 'deadline_exceeded' });
    } finally {
      inventory.kill('SIGCONT');
    }
  }, 90_000);
});
