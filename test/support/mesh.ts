import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogProduct } from '../../services/inventory/catalog.js';
import { createTestVhost, type TestVhost } from './broker.js';
import { runScript, type ChildScript } from './child-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The example services, in the order the mesh starts them. */
export const MESH_SERVICES = ['inventory', 'payments', 'notifications', 'analytics', 'orders'] as const;
/** One of {@link MESH_SERVICES}. */
export type MeshService = (typeof MESH_SERVICES)[number];

/** How long a process may take to print that it is ready (the machine may be busy). */
const START_TIMEOUT_MS = 45_000;

/** An HTTP answer of the gateway. */
export interface MeshResponse {
  readonly status: number;
  readonly json: any;
  readonly ms: number;
}

/** Options of {@link startMesh}. */
export interface MeshOptions {
  /** Products inventory starts with. */
  readonly catalog: readonly CatalogProduct[];
  /**
   * A broker of the test's own (a throwaway node's `url`): the mesh runs in its default vhost, which is left
   * alone on close. Default: a fresh vhost on the shared broker.
   */
  readonly brokerUrl?: string;
  /** Extra environment per service (e.g. `{ payments: { PAYMENTS_LATENCY_MS: '50' } }`). */
  readonly env?: Partial<Record<MeshService, Record<string, string>>>;
  /** Extra environment of the gateway process (e.g. `{ GATEWAY_MAX_TIMEOUT_MS: '2000' }`). */
  readonly gatewayEnv?: Record<string, string>;
}

/**
 * The whole example mesh for one test file: every service and the gateway
 * as real child processes (`services/<name>/main.ts`, `gateway/main.ts`) on
 * a vhost of its own, with a temporary DATA_DIR.
 */
export interface Mesh {
  readonly vhost: TestVhost;
  readonly dataDir: string;
  /** `http://127.0.0.1:<port>` of the gateway. */
  readonly base: string;
  /** Running processes by instance name (`orders`, `inventory-2`…). */
  readonly processes: Map<string, ChildScript>;
  /** Starts an instance of a service (`instance` defaults to the service name) and waits for `ready`. */
  start(service: MeshService, instance?: string): Promise<ChildScript>;
  /** Stops an instance by PID (SIGTERM: graceful; SIGKILL: a crash) and waits for it to exit. */
  stop(instance: string, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** One HTTP request to the gateway; `body` is sent as JSON. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<MeshResponse>;
  /** Kills every process, removes the vhost and the data directory. */
  close(): Promise<void>;
}

/** Starts the mesh and waits until every service is ready and the gateway listens. */
export async function startMesh(label: string, options: MeshOptions): Promise<Mesh> {
  const vhost: TestVhost =
    options.brokerUrl === undefined
      ? await createTestVhost(label)
      : { name: '/', url: options.brokerUrl, remove: async () => undefined };
  const dataDir = mkdtempSync(join(tmpdir(), `warren-${label}-`));
  const catalogPath = join(dataDir, 'catalog.json');
  writeFileSync(catalogPath, JSON.stringify(options.catalog));
  const processes = new Map<string, ChildScript>();
  const common = { AMQP_URL: vhost.url, DATA_DIR: dataDir, INVENTORY_CATALOG: catalogPath, WARREN_LOG_LEVEL: 'warn' };

  const start = async (service: MeshService, instance: string = service): Promise<ChildScript> => {
    const child = runScript(join(root, 'services', service, 'main.ts'), { ...common, ...options.env?.[service] });
    processes.set(instance, child);
    await child.waitFor(new RegExp(`^ready ${service}$`), START_TIMEOUT_MS);
    return child;
  };

  let base = '';
  const mesh: Mesh = {
    vhost,
    dataDir,
    processes,
    get base() {
      return base;
    },
    start,
    async stop(instance, signal = 'SIGTERM') {
      const child = processes.get(instance);
      if (!child) throw new Error(`no running instance ${instance}`);
      child.kill(signal);
      await child.exited;
      processes.delete(instance);
    },
    async request(method, path, body, headers = {}) {
      const started = performance.now();
      const response = await fetch(base + path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: response.status, json, ms: performance.now() - started };
    },
    async close() {
      for (const child of processes.values()) child.kill('SIGKILL');
      await Promise.all([...processes.values()].map((child) => child.exited));
      processes.clear();
      await vhost.remove();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(MESH_SERVICES.map((service) => start(service)));
    const gateway = runScript(join(root, 'gateway', 'main.ts'), {
      ...common,
      PROTO_DIR: join(root, 'proto'),
      PORT: '0',
      HOST: '127.0.0.1',
      WARREN_LOG_LEVEL: 'info',
      ...options.gatewayEnv,
    });
    processes.set('gateway', gateway);
    const listening = await gateway.waitFor(/"msg":"gateway listening"/, START_TIMEOUT_MS);
    base = `http://127.0.0.1:${(JSON.parse(listening) as { port: number }).port}`;
  } catch (error) {
    await mesh.close();
    throw error;
  }
  return mesh;
}

/** Polls `probe` every `intervalMs` until `done` says yes, or throws after `timeoutMs` with the last value seen. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
  intervalMs = 150,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Every item of a paged List method, following next_page_token. */
export async function listAll(mesh: Mesh, path: string, field: string): Promise<any[]> {
  const items: any[] = [];
  let token = '';
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = await mesh.request(
      'GET',
      `${path}${separator}pageSize=100${token === '' ? '' : `&pageToken=${encodeURIComponent(token)}`}`,
    );
    if (page.status !== 200) throw new Error(`GET ${path}: ${page.status} ${JSON.stringify(page.json)}`);
    items.push(...((page.json[field] as any[] | undefined) ?? []));
    token = (page.json.nextPageToken as string | undefined) ?? '';
  } while (token !== '');
  return items;
}

/** A CreateOrder body. */
export function orderBody(
  requestId: string,
  customerId: string,
  items: { sku: string; quantity: number }[],
  paymentToken = 'tok_visa',
): Record<string, unknown> {
  return { requestId, customerId, items, paymentToken };
}
