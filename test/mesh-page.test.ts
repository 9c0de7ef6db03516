import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { connect } from 'amqplib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESH_EXCHANGE } from '../core/protocol/index.js';
import { meshReportProperties } from '../core/tooling.js';
import { InstanceReport } from '../gen/warren/mesh/v1/mesh.js';
import { MESH_SERVICES, orderBody, startMesh, waitUntil, type Mesh } from './support/mesh.js';

/** Debian's chromium (`apt-get install chromium`): playwright-core drives it, nothing is downloaded. */
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
const SCREENSHOTS = fileURLToPath(new URL('../.tmp/', import.meta.url));
const run = promisify(execFile);

/** The full service name each shop process serves. */
const SERVICE: Record<(typeof MESH_SERVICES)[number], string> = {
  orders: 'shop.orders.v1.OrderService',
  inventory: 'shop.inventory.v1.InventoryService',
  payments: 'shop.payments.v1.PaymentService',
  notifications: 'shop.notifications.v1.NotificationService',
  analytics: 'shop.analytics.v1.AnalyticsService',
};

/** What the page shows of one node (read from its SVG group's data attributes and text). */
interface DrawnNode {
  readonly status: string;
  readonly instances: number;
  readonly text: string;
}

// The live mesh page of the example shop, in a real headless Chromium: it
// draws every service with its instances and who calls whom, and follows a
// service going down without a reload.
describe('the live mesh page (/mesh) in a browser', () => {
  let mesh: Mesh;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    const reportFast = { WARREN_MESH_REPORT_MS: '1000' };
    [mesh, browser] = await Promise.all([
      startMesh('mesh-page', {
        catalog: [{ sku: 'MUG', name: 'Mug', unitPriceCents: 1200, currencyCode: 'EUR', stock: 1000 }],
        env: {
          inventory: reportFast,
          payments: reportFast,
          notifications: reportFast,
          analytics: reportFast,
          orders: { ...reportFast, ORDERS_CHARGE_TIMEOUT_MS: '1500' },
        },
      }),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await mesh?.close();
  });

  const drawn = async (): Promise<Record<string, DrawnNode>> => {
    const found: string[][] = await page
      .locator('#graph [data-node]')
      .evaluateAll((nodes) =>
        nodes.map((node) => [
          node.getAttribute('data-node'),
          node.getAttribute('data-status'),
          node.getAttribute('data-instances'),
          node.textContent ?? '',
        ]),
      );
    return Object.fromEntries(
      found.map(([id, status, instances, text]) => [
        id!,
        { status: status!, instances: Number(instances), text: text! },
      ]),
    );
  };
  const edges = async (): Promise<Record<string, number>> => {
    const found: string[][] = await page
      .locator('#graph [data-edge]')
      .evaluateAll((lines) => lines.map((line) => [line.getAttribute('data-edge'), line.getAttribute('data-rate')]));
    return Object.fromEntries(found.map(([id, rate]) => [id!, Number(rate)]));
  };
  const placeOrder = (id: string) =>
    mesh.request('POST', '/v1/orders', orderBody(id, 'mesh-viewer', [{ sku: 'MUG', quantity: 1 }]), {
      'x-warren-timeout-ms': '15000',
    });

  it('draws all five shop services with their instances, and the calls and events between them', async () => {
    for (const n of [1, 2, 3]) expect((await placeOrder(`page-${n}`)).status).toBe(200);
    expect((await mesh.request('GET', '/v1/stock/MUG')).status).toBe(200);

    const response = await page.goto(`${mesh.base}/mesh`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'sha256-/);
    expect(await page.title()).toBe('Warren mesh');

    const nodes = await waitUntil(
      'every shop service drawn, up',
      drawn,
      (seen) =>
        seen['app:gateway'] !== undefined &&
        MESH_SERVICES.every(
          (name) => seen[SERVICE[name]]?.instances === 1 && seen[SERVICE[name]]?.status === 'healthy',
        ),
      30_000,
      250,
    );
    for (const name of MESH_SERVICES) expect(nodes[SERVICE[name]]!.text).toContain(name); // labelled with the app's name
    expect(nodes['app:gateway']).toMatchObject({ status: 'healthy', instances: 1 });

    const lines = await waitUntil('the calls and events of the orders', edges, (seen) =>
      [
        `${SERVICE.orders}>${SERVICE.inventory}`,
        `${SERVICE.orders}>${SERVICE.payments}`,
        `app:gateway>${SERVICE.orders}`,
        `app:gateway>${SERVICE.inventory}`, // the stock read
        `${SERVICE.orders}~>${SERVICE.notifications}`,
        `${SERVICE.orders}~>${SERVICE.analytics}`,
      ].every((id) => (seen[id] ?? 0) > 0),
    );
    expect(lines[`${SERVICE.inventory}>${SERVICE.orders}`]).toBeUndefined(); // nobody calls backwards

    // The per-service detail: CreateOrder served, with a p99; the event groups of the subscribers.
    const ordersCard = await page.locator(`[data-card="${SERVICE.orders}"]`).innerText();
    expect(ordersCard).toContain('CreateOrder');
    expect(ordersCard).toMatch(/\d ms/);
    expect(await page.locator(`[data-card="${SERVICE.notifications}"]`).innerText()).toContain('notifications');
    const breakers = await page.locator('#breakers').innerText();
    expect(breakers).toContain('orders → payments');
    expect(breakers).toContain('gateway → orders');

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}mesh.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows a stopped service as down with 0 instances, and its callers failing, without a reload', async () => {
    await page.evaluate('window.sameDocument = true');
    await mesh.stop('payments', 'SIGTERM');
    const nodes = await waitUntil(
      'payments drawn as down',
      drawn,
      (seen) => seen[SERVICE.payments]?.status === 'down',
      20_000,
      200,
    );
    expect(nodes[SERVICE.payments]!.instances).toBe(0);
    expect(nodes[SERVICE.payments]!.text).toContain('0 instances');
    expect(nodes[SERVICE.orders]!.status).not.toBe('down');

    // An order now waits for its charge and fails: the orders → payments edge turns red.
    const failed = await placeOrder('page-down');
    expect(failed.status).not.toBe(200);
    const failing = await waitUntil(
      'orders → payments failing',
      async () =>
        (await page.locator(`[data-edge="${SERVICE.orders}>${SERVICE.payments}"]`).getAttribute('class')) ?? '',
      (classes) => classes.includes('bad'),
      20_000,
      250,
    );
    expect(failing).toContain('rpc');
    expect(await page.evaluate('window.sameDocument')).toBe(true); // the same document: updated live, not reloaded
    expect(await page.locator(`[data-card="${SERVICE.payments}"]`).innerText()).toMatch(
      /no consumer on rpc\.shop\.payments\.v1\.PaymentService/,
    );
    await page.screenshot({ path: `${SCREENSHOTS}mesh-payments-down.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('serves the same picture as JSON', async () => {
    const answer = await mesh.request('GET', '/mesh.json');
    expect(answer.status).toBe(200);
    const orders = answer.json.nodes.find((node: { id: string }) => node.id === SERVICE.orders);
    expect(orders).toMatchObject({ kind: 'service', label: 'orders', apps: ['orders'], instances: 1 });
    const create = orders.methods.find((method: { name: string }) => method.name === 'CreateOrder');
    expect(create.calls).toBeGreaterThan(0);
    expect(create.p99Ms).toBeGreaterThan(0);
    expect(answer.json.nodes.find((node: { id: string }) => node.id === SERVICE.payments)).toMatchObject({
      status: 'down',
      instances: 0,
    });
  });

  it('keeps following the mesh after the broker cut the gateway’s connection', async () => {
    const gateway = mesh.processes.get('gateway')!;
    const name = `warren-gateway-${gateway.pid}`;
    const { stdout } = await run('rabbitmqctl', [
      'list_connections',
      '-p',
      mesh.vhost.name,
      '--quiet',
      '--no-table-headers',
      'pid',
      'client_properties',
    ]);
    const line = stdout.split('\n').find((entry) => entry.includes(name));
    if (!line) throw new Error(`no broker connection named ${name}`);
    await run('rabbitmqctl', ['close_connection', line.trim().split(/\s+/)[0]!, 'test: simulated broker loss']);
    // the old connection (and the viewer queue that lived with it) is gone, a new one is up
    await gateway.waitFor(/"msg":"reconnected; topology restored"/, 20_000);

    // Reports published after the cut reach the page: the gateway consumes again on its new connection.
    const connection = await connect(mesh.vhost.url);
    try {
      const channel = await connection.createChannel();
      const probe = async () => {
        const report = InstanceReport.fromPartial({
          app: 'probe',
          instance: 'probe-1',
          sentAtMs: Date.now(),
          windowMs: 1000,
          intervalMs: 5000,
          sequence: 1,
        });
        channel.publish(
          MESH_EXCHANGE,
          '',
          Buffer.from(InstanceReport.encode(report).finish()),
          meshReportProperties('probe', 15_000),
        );
        return drawn();
      };
      await waitUntil(
        'a report sent after the cut drawn',
        probe,
        (seen) => seen['app:probe']?.status === 'healthy',
        30_000,
        300,
      );
    } finally {
      await connection.close();
    }
    // Queue checks work again too: payments, still stopped, is still down; orders is up.
    const nodes = await drawn();
    expect(nodes[SERVICE.payments]).toMatchObject({ status: 'down', instances: 0 });
    expect(nodes[SERVICE.orders]!.instances).toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it('shows names from the broker as text: a hostile report injects nothing', async () => {
    const app = '<img src=x onerror="window.pwned=1">';
    const service = 'evil.v1.<script>window.pwned=2</script>';
    const connection = await connect(mesh.vhost.url);
    try {
      const channel = await connection.createChannel();
      const report = InstanceReport.fromPartial({
        app,
        instance: '<b>i-1</b>',
        services: [service],
        sentAtMs: Date.now(),
        windowMs: 1000,
        intervalMs: 1000,
        sequence: 1,
      });
      for (let n = 0; n < 3; n++)
        channel.publish(
          MESH_EXCHANGE,
          '',
          Buffer.from(InstanceReport.encode(report).finish()),
          meshReportProperties(app, 60_000),
        );
      await channel.close();
    } finally {
      await connection.close();
    }
    const nodes = await waitUntil('the hostile node drawn', drawn, (seen) => seen[service] !== undefined, 15_000, 200);
    expect(nodes[service]!.text).toContain('<img src=x');
    expect(await page.locator(`[data-card="${service}"]`).innerText()).toContain('<script>window.pwned=2</script>');
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('b', { hasText: 'i-1' }).count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1); // the page's own
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });
});
