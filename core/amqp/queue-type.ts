import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';

/** Type of Warren's durable queues: `classic` (one node) or `quorum` (replicated over a cluster's nodes, Raft). */
export type QueueType = 'classic' | 'quorum';

/** The environment variable with the mesh's queue type. */
export const QUEUE_TYPE_ENV = 'WARREN_QUEUE_TYPE';

/**
 * The one switch for running on a cluster: the queue type of every service
 * queue, service dead-letter queue, event group queue and event dead-letter
 * queue a process declares. `connectAmqp({ queueType })` wins, then
 * `WARREN_QUEUE_TYPE`, else `classic`. A server's own `queueType` still wins
 * for its service queue.
 *
 * Explicit rather than inferred from the number of URLs: a queue's type is
 * fixed when it is first declared, and every process of the mesh must declare
 * it alike (RabbitMQ refuses a second declaration with another type,
 * PRECONDITION_FAILED). A switch set once for the whole deployment keeps them
 * alike; inferring it would make a process given one URL (a load balancer in
 * front of the cluster, a CLI pointed at one node) disagree with the rest.
 * Unknown values are refused (INVALID_ARGUMENT), never ignored.
 */
export function resolveQueueType(given: QueueType | undefined, env: NodeJS.ProcessEnv = process.env): QueueType {
  const value = given ?? (env[QUEUE_TYPE_ENV]?.trim() || undefined);
  if (value === undefined) return 'classic';
  if (value === 'classic' || value === 'quorum') return value;
  throw new RpcError(
    Code.INVALID_ARGUMENT,
    `${QUEUE_TYPE_ENV} must be classic or quorum, not ${JSON.stringify(value)}`,
  );
}

/**
 * Arguments of a durable queue of the given type. Classic queues get none, so
 * queues declared before the switch existed are declared exactly as before.
 */
export function durableQueueArguments(queueType: QueueType): Record<string, unknown> {
  return queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
}
