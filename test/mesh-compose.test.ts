import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AnalyticsServiceDefinition } from '../gen/shop/analytics/v1/analytics.js';
import { InventoryServiceDefinition } from '../gen/shop/inventory/v1/inventory.js';
import { NotificationServiceDefinition } from '../gen/shop/notifications/v1/notifications.js';
import { OrderServiceDefinition } from '../gen/shop/orders/v1/orders.js';
import { PaymentServiceDefinition } from '../gen/shop/payments/v1/payments.js';

const root = fileURLToPath(new URL('..', import.meta.url));

// js-yaml is already installed (a dependency of @apidevtools/swagger-parser) and ships no types.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string };
}

const compose = yaml.load(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const serviceDirs = readdirSync(join(root, 'services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, 'services', entry.name, 'main.ts')))
  .map((entry) => entry.name)
  .sort();

/** The RPC service each process serves, which its health check must ask for. */
const servedBy: Record<string, string> = {
  inventory: InventoryServiceDefinition.fullName,
  payments: PaymentServiceDefinition.fullName,
  notifications: NotificationServiceDefinition.fullName,
  analytics: AnalyticsServiceDefinition.fullName,
  orders: OrderServiceDefinition.fullName,
};

// No Docker engine here: the file is checked against the code instead of run.
describe('docker-compose.yml', () => {
  it('runs RabbitMQ with the management plugin, healthy before anything starts', () => {
    const rabbitmq = compose.services['rabbitmq']!;
    expect(rabbitmq.image).toMatch(/^rabbitmq:[\d.]+-management$/);
    expect(rabbitmq.ports).toEqual(expect.arrayContaining(['5672:5672', '15672:15672']));
    expect(rabbitmq.healthcheck?.test.join(' ')).toContain('rabbitmq-diagnostics');
  });

  it('has exactly one container per services/<name>/main.ts, plus rabbitmq, provision and the gateway', () => {
    expect(serviceDirs).toEqual(Object.keys(servedBy).sort());
    expect(Object.keys(compose.services).sort()).toEqual([...serviceDirs, 'gateway', 'provision', 'rabbitmq'].sort());
  });

  it('runs every process as its own broker user provisioned before it starts, with access control enforced', () => {
    const provision = compose.services['provision']!;
    expect(provision.command).toEqual(['node', '--import', 'tsx', 'scripts/provision-compose.ts']);
    expect(existsSync(join(root, 'scripts/provision-compose.ts'))).toBe(true);
    const usersFile = provision.environment?.['WARREN_BROKER_USERS_FILE'];
    expect(usersFile).toBeDefined();
    for (const name of [...serviceDirs, 'gateway']) {
      const service = compose.services[name]!;
      expect({ name, file: service.environment?.['WARREN_BROKER_USERS_FILE'] }).toEqual({ name, file: usersFile });
      expect(existsSync(join(root, service.environment!['WARREN_PERMISSIONS_FILE']!))).toBe(true);
      expect(service.depends_on?.['provision']?.condition).toBe('service_completed_successfully');
    }
    for (const name of serviceDirs) expect(compose.services[name]!.environment?.['WARREN_ACCESS']).toBe('enforce');
  });

  it.each(serviceDirs)(
    '%s: runs its main.ts, data on the volume, broker in the network, health-checked over the broker',
    (name) => {
      const service = compose.services[name]!;
      expect(service.command).toEqual(['node', `services/dist/services/${name}/main.js`]); // compiled JS: no TypeScript compiler in the image
      expect(existsSync(join(root, `services/${name}/main.ts`))).toBe(true);
      expect(existsSync(join(root, service.build!.context, service.build!.dockerfile))).toBe(true);
      expect(service.environment?.['AMQP_URL']).toMatch(/^amqp:\/\/[^@]+@rabbitmq:5672$/);
      const dataDir = service.environment?.['DATA_DIR'];
      expect(dataDir).toBeDefined();
      const mount = service.volumes?.find((volume) => volume.endsWith(`:${dataDir}`));
      expect(mount).toBeDefined();
      expect(Object.keys(compose.volumes)).toContain(mount!.split(':')[0]);
      expect(service.depends_on?.['rabbitmq']?.condition).toBe('service_healthy');
      expect(service.healthcheck?.test).toEqual([
        'CMD',
        'node',
        'services/dist/services/shared/health-check.js',
        servedBy[name],
      ]);
      expect(existsSync(join(root, 'services/shared/health-check.ts'))).toBe(true);
    },
  );

  it('starts orders after its event subscribers', () => {
    const dependsOn = compose.services['orders']!.depends_on!;
    expect(dependsOn['notifications']?.condition).toBe('service_healthy');
    expect(dependsOn['analytics']?.condition).toBe('service_healthy');
  });

  it('publishes the gateway on 8080 with the contracts, checked through /readyz', () => {
    const gateway = compose.services['gateway']!;
    expect(gateway.command).toEqual(['node', 'dist/gateway/main.js']);
    expect(gateway.ports).toContain(`${gateway.environment!['PORT']}:8080`);
    expect(existsSync(join(root, gateway.environment!['PROTO_DIR']!, 'shop/orders/v1/orders.proto'))).toBe(true);
    expect(gateway.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:8080/readyz');
    expect(gateway.depends_on?.['rabbitmq']?.condition).toBe('service_healthy');
  });
});
