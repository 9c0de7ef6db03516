import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { brokerUrls, resolveQueueType } from '../core/tooling.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// js-yaml is already installed (a dependency of @apidevtools/swagger-parser) and ships no types.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

interface ComposeService {
  image?: string;
  hostname?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
type ComposeFile = { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };

const load = (file: string): ComposeFile => yaml.load(readFileSync(join(root, file), 'utf8')) as ComposeFile;
const base = load('docker-compose.yml');
const cluster = load('docker-compose.cluster.yml');
/** `docker compose -f docker-compose.yml -f docker-compose.cluster.yml`: maps merge, lists of volumes are added. */
const merged: Record<string, ComposeService> = Object.fromEntries(
  [...new Set([...Object.keys(base.services), ...Object.keys(cluster.services)])].map((name) => {
    const [below, above] = [base.services[name] ?? {}, cluster.services[name] ?? {}];
    return [
      name,
      {
        ...below,
        ...above,
        environment: { ...below.environment, ...above.environment },
        depends_on: { ...below.depends_on, ...above.depends_on },
        volumes: [...new Set([...(below.volumes ?? []), ...(above.volumes ?? [])])],
      },
    ];
  }),
);
const NODES = ['rabbitmq', 'rabbitmq-2', 'rabbitmq-3'];
const processes = Object.keys(base.services).filter((name) => name !== 'rabbitmq');

// No Docker engine here (and no compose plugin): the override is checked against the code instead of run.
describe('docker-compose.cluster.yml', () => {
  it('runs three RabbitMQ nodes with their own host names and data, one cookie, the cluster config mounted', () => {
    const conf = readFileSync(join(root, 'deploy/rabbitmq-cluster.conf'), 'utf8');
    for (const node of NODES) {
      const service = merged[node]!;
      expect(service.image).toMatch(/^rabbitmq:3\.\d+-management$/);
      expect(service.hostname).toBe(node);
      expect(service.volumes).toContain('./deploy/rabbitmq-cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro');
      const data = service.volumes!.find((volume) => volume.endsWith(':/var/lib/rabbitmq'))!.split(':')[0]!;
      expect({ ...base.volumes, ...cluster.volumes }).toHaveProperty([data]);
      expect(service.environment?.['RABBITMQ_ERLANG_COOKIE']).toBe(
        merged['rabbitmq']!.environment?.['RABBITMQ_ERLANG_COOKIE'],
      );
      expect(service.healthcheck?.test.join(' ')).toContain('rabbitmq-diagnostics');
      expect(conf).toContain(`= rabbit@${node}\n`);
    }
    const dataVolumes = NODES.map((node) =>
      merged[node]!.volumes!.find((volume) => volume.endsWith(':/var/lib/rabbitmq')),
    );
    expect(new Set(dataVolumes).size).toBe(3);
    expect(conf).toMatch(/^cluster_formation\.peer_discovery_backend = classic_config$/m);
    expect(conf).toMatch(/^cluster_partition_handling = pause_minority$/m);
  });

  it.each(processes)('%s: gets every node in AMQP_URL, quorum queues, and waits for all three nodes', (name) => {
    const env = merged[name]!.environment!;
    expect(brokerUrls(env['AMQP_URL']!).map((url) => new URL(url).host)).toEqual(NODES.map((node) => `${node}:5672`));
    expect(resolveQueueType(undefined, env)).toBe('quorum');
    for (const node of NODES) expect(merged[name]!.depends_on?.[node]?.condition).toBe('service_healthy');
  });

  it('keeps the single-node file as it was', () => {
    for (const name of processes) expect(brokerUrls(base.services[name]!.environment!['AMQP_URL']!)).toHaveLength(1);
  });
});
