import { randomBytes } from 'node:crypto';
import { startThrowawayBroker, type ThrowawayBroker } from './throwaway-broker.js';

/** Options of {@link startThrowawayCluster}. */
export interface ThrowawayClusterOptions {
  /** Part of every node name (`warren-test-<label>-<n>-<hex>@localhost`). Default `cluster`. */
  readonly label?: string;
  /** Nodes. Default 3 (the smallest cluster that keeps a majority after losing one). */
  readonly size?: number;
  /** Extra rabbitmq.conf lines for every node. */
  readonly extraConfig?: readonly string[];
}

/**
 * A RabbitMQ cluster of throwaway nodes (test/support/throwaway-broker.ts):
 * each on its own ports, data and log directory, all sharing one Erlang cookie
 * of their own, so the shared broker on 5672 is never reached. Removing it
 * kills every node by PID; each node's watchdog does the same if the test dies.
 */
export interface ThrowawayCluster {
  readonly nodes: readonly ThrowawayBroker[];
  /** Every node's AMQP URL, in node order. */
  readonly urls: readonly string[];
  /** The URLs comma-separated, as `AMQP_URL` takes them. */
  readonly amqpUrl: string;
  /** The node whose AMQP port is in `url` (a connection's node), or undefined. */
  nodeOfUrl(url: string): ThrowawayBroker | undefined;
  /** The node leading quorum queue `queue` (asked of a running node), or undefined while it has no leader. */
  leaderOf(queue: string, vhost?: string): Promise<ThrowawayBroker | undefined>;
  /** Node names of the running cluster members, as a running node sees them. */
  runningNodes(): Promise<string[]>;
  /** Runs `rabbitmqctl` on the first running node. */
  rabbitmqctl(...args: string[]): Promise<string>;
  /** Removes every node (by PID) and its directory. Safe to call twice. */
  remove(): Promise<void>;
  /** PIDs of every node's processes still running: empty after `remove()`. */
  processes(): number[];
}

/**
 * Boots `size` throwaway nodes in parallel and joins the others to the first
 * (`stop_app`, `join_cluster`, `start_app`); resolves once every node accepts
 * AMQP and the first sees them all running. `cluster_partition_handling` is
 * `pause_minority`: a node cut off from the majority stops serving instead of
 * carrying on alone.
 */
export async function startThrowawayCluster(options: ThrowawayClusterOptions = {}): Promise<ThrowawayCluster> {
  const size = options.size ?? 3;
  const label = options.label ?? 'cluster';
  const cookie = randomBytes(16).toString('hex').toUpperCase();
  const extraConfig = ['cluster_partition_handling = pause_minority', ...(options.extraConfig ?? [])];
  const started = await Promise.allSettled(
    Array.from({ length: size }, (_, n) => startThrowawayBroker({ label: `${label}-${n + 1}`, cookie, extraConfig })),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const removeAll = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.remove()));
  };
  try {
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    const [seed, ...others] = nodes as [ThrowawayBroker, ...ThrowawayBroker[]];
    for (const node of others) {
      await node.stop('app');
      await node.rabbitmqctl('join_cluster', seed.nodeName);
      await node.start();
    }
    const running = await runningOf(seed);
    if (running.length !== size) throw new Error(`cluster did not form: ${seed.nodeName} sees ${running.join(', ')}`);
  } catch (error) {
    await removeAll();
    throw error;
  }

  const firstRunning = (): ThrowawayBroker => {
    const node = nodes.find((candidate) => candidate.pid !== undefined);
    if (!node) throw new Error('no node of the cluster is running');
    return node;
  };
  const cluster: ThrowawayCluster = {
    nodes,
    urls: nodes.map((node) => node.url),
    amqpUrl: nodes.map((node) => node.url).join(','),
    nodeOfUrl: (url) => nodes.find((node) => url.includes(`:${node.ports.amqp}`)),
    async leaderOf(queue, vhost = '/') {
      const out = await firstRunning().rabbitmqctl(
        'list_queues',
        '-p',
        vhost,
        '--quiet',
        '--no-table-headers',
        'name',
        'leader',
      );
      for (const line of out.trim().split('\n')) {
        const [name, leader] = line.trim().split(/\s+/);
        if (name === queue) return nodes.find((node) => node.nodeName === leader);
      }
      return undefined;
    },
    runningNodes: () => runningOf(firstRunning()),
    rabbitmqctl: (...args) => firstRunning().rabbitmqctl(...args),
    remove: removeAll,
    processes: () => nodes.flatMap((node) => node.processes()),
  };
  return cluster;
}

/** Running nodes of the cluster as `node` sees them (`cluster_status`, JSON); none while it cannot say (restarting). */
async function runningOf(node: ThrowawayBroker): Promise<string[]> {
  const out = await node.rabbitmqctl('cluster_status', '--formatter', 'json');
  try {
    return [...((JSON.parse(out) as { running_nodes?: string[] }).running_nodes ?? [])].sort();
  } catch {
    return [];
  }
}
