import type { Tally } from './mesh-tally.js';
import type { BreakerStateName, BreakerView, NodeStatus, QueueView } from './mesh-view.js';

/** Share of server faults (served, or seen by callers) from which a service is degraded. */
export const DEGRADED_FAULT_RATE = 0.05;
/** Requests waiting in a service queue from which it is degraded (a backlog). */
export const BACKLOG_MESSAGES = 100;

/** What the status of a service node is decided from. */
export interface StatusInput {
  readonly service: string;
  /** Its queue (`null`: not checked yet). */
  readonly queue: QueueView | null;
  /** Live instances reporting that they serve it. */
  readonly reporting: number;
  /** Calls it served in the window. */
  readonly served: Tally;
  /** Calls its callers sent it in the window, per caller. */
  readonly incoming: readonly Tally[];
  /** Breakers toward it that are not closed. */
  readonly breakers: readonly BreakerView[];
}

/**
 * Decides a service's status, first match wins:
 *
 * | status | when |
 * |---|---|
 * | down | its queue does not exist, or has no consumer (requests wait until their deadline) |
 * | unknown | its queue was not checked yet and no instance reports it |
 * | degraded | ≥ 5 % server faults served, or callers see ≥ 5 % faults (timeouts, UNAVAILABLE), a breaker toward it is not closed, or ≥ 100 requests wait |
 * | healthy | otherwise |
 *
 * The consumer count is the broker's word and wins over reports: a
 * reporting process whose consumer is gone (a lost connection) serves
 * nothing.
 */
export function nodeStatus(input: StatusInput): { status: NodeStatus; reason: string } {
  const { queue } = input;
  if (queue && !queue.exists) return { status: 'down', reason: `no queue ${queue.name}` };
  if (queue && queue.consumers === 0) {
    return {
      status: 'down',
      reason: `no consumer on ${queue.name}${queue.messages > 0 ? `; ${queue.messages} waiting` : ''}`,
    };
  }
  if (!queue && input.reporting === 0) return { status: 'unknown', reason: 'no report yet' };
  const reasons: string[] = [];
  if (input.served.calls > 0 && input.served.faultRate >= DEGRADED_FAULT_RATE)
    reasons.push(`${percent(input.served.faultRate)} server errors`);
  const failing = input.incoming.find((tally) => tally.calls > 0 && tally.faultRate >= DEGRADED_FAULT_RATE);
  if (failing && reasons.length === 0) reasons.push(`callers see ${percent(failing.faultRate)} failures`);
  for (const breaker of input.breakers) reasons.push(`breaker ${breaker.state} in ${breaker.holder}`);
  if (queue && queue.messages >= BACKLOG_MESSAGES) reasons.push(`${queue.messages} requests waiting`);
  if (reasons.length > 0) return { status: 'degraded', reason: reasons.join('; ') };
  const instances = queue ? queue.consumers : input.reporting;
  return { status: 'healthy', reason: `${instances} instance${instances === 1 ? '' : 's'} serving` };
}

const SEVERITY: Record<BreakerStateName, number> = { closed: 0, 'half-open': 1, open: 2 };

/** The worse of two breaker states (open > half-open > closed). */
export function worstBreaker(a: BreakerStateName | undefined, b: BreakerStateName): BreakerStateName {
  return a !== undefined && SEVERITY[a] > SEVERITY[b] ? a : b;
}

function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}
