import type { RpcError } from '../protocol/rpc-error.js';

/**
 * Publishes the broker refused (basic.nack): not enqueued, so publishing them
 * again cannot run anything twice.
 *
 * RabbitMQ nacks a publish when a queue with `x-overflow: reject-publish` is
 * full, and when a quorum queue cannot take it (no leader). On RabbitMQ 3.10
 * a channel whose first publish to a quorum queue came while the queue had
 * no leader (a node just died) keeps refusing every later publish to it, even
 * once a new leader is elected, while channels opened before or after are
 * fine. So on a cluster a refused publish is tried again on a fresh channel,
 * with backoff, for a bounded failover window (`connectAmqp({ failoverRetryMs })`)
 * before the caller sees RESOURCE_EXHAUSTED.
 */
const refused = new WeakSet<RpcError>();

/** Marks `error` as a refused publish (the broker nacked it). */
export function markRefused(error: RpcError): RpcError {
  refused.add(error);
  return error;
}

/** True when `error` is a refused publish. */
export function isRefused(error: unknown): boolean {
  return typeof error === 'object' && error !== null && refused.has(error as RpcError);
}

/** Default failover window on a cluster: long enough for a quorum queue to elect a new leader on a loaded machine. */
export const DEFAULT_FAILOVER_RETRY_MS = 10_000;

/** Backoff before the `attempt`-th publish again (1-based): 100 ms doubling to 1 s, with jitter. */
export function refusedBackoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1000, 100 * 2 ** (attempt - 1));
  return base / 2 + (random() * base) / 2;
}
