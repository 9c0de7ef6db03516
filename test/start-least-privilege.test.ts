import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript, type ChildScript } from './support/child-process.js';
import { orderBody } from './support/mesh.js';
import { startThrowawayBroker, type ThrowawayBroker } from './support/throwaway-broker.js';

const root = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  const server = netServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// `npm start` (scripts/start.ts) against a broker node of the test's own: it provisions one broker user per service
// and the gateway, runs each process as its own user with access control enforced, and the shop still takes orders.
describe('npm start is least-privilege by default', () => {
  let broker: ThrowawayBroker;
  let start: ChildScript;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    broker = await startThrowawayBroker({ label: 'npm-start' });
    dir = mkdtempSync(join(tmpdir(), 'warren-npm-start-'));
    // rabbitmqctl of the throwaway node (its own cookie in its directory), as npm start's RABBITMQCTL
    const ctl = join(dir, 'rabbitmqctl.sh');
    // the CLI under RABBITMQ_BIN, as the throwaway broker runs it (the one on PATH may switch to the rabbitmq user)
    const bin = process.env['RABBITMQ_BIN'] ?? '/usr/lib/rabbitmq/bin';
    writeFileSync(
      ctl,
      `#!/bin/sh\nHOME='${broker.dir}' ERL_EPMD_ADDRESS=127.0.0.1 exec '${bin}/rabbitmqctl' -n '${broker.nodeName}' "$@"\n`,
    );
    chmodSync(ctl, 0o755);
    const catalog = join(dir, 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify([{ sku: 'BOOK', name: 'Book', unitPriceCents: 1500, currencyCode: 'EUR', stock: 10 }]),
    );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    start = runScript(join(root, 'scripts', 'start.ts'), {
      AMQP_URL: broker.url,
      RABBITMQCTL: ctl,
      PORT: String(port),
      WARREN_METRICS_BASE_PORT: 'off',
      WARREN_MESH_REPORT_MS: '0',
      DATA_DIR: join(dir, 'data'),
      INVENTORY_CATALOG: catalog,
      WARREN_LOG_LEVEL: 'warn',
    });
    await start.waitFor(/mesh ready/, 180_000);
  }, 240_000);

  afterAll(async () => {
    start?.kill('SIGTERM');
    await start?.exited;
    await broker?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every service and the gateway as its own broker user, and still takes orders', async () => {
    const users = (await broker.rabbitmqctl('list_connections', 'user', '--quiet', '--no-table-headers'))
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    expect(new Set(users)).toEqual(
      new Set(['inventory', 'payments', 'notifications', 'analytics', 'orders', 'gateway']),
    );
    expect(start.lines.some((line) => line.includes('access control enforced'))).toBe(true);
    const placed = await fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(orderBody('npm-start-1', 'npm', [{ sku: 'BOOK', quantity: 1 }])),
    });
    expect(placed.status).toBe(200);
    expect(((await placed.json()) as { status?: string }).status).toBe('ORDER_STATUS_PAID');
  });
});
