/**
 * Deadline arithmetic, the one home for it (client call scopes, the dispatcher, the gateway, event publishes).
 * A deadline is absolute: milliseconds since the Unix epoch, as `warren-deadline` carries it (PROTOCOL.md §3).
 */

/** Longest delay Node's `setTimeout` takes; a longer one would fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Milliseconds left until `deadline`, never negative. */
export function remainingMs(deadline: number, now: number = Date.now()): number {
  return Math.max(0, deadline - now);
}

/** True once `deadline` has come. */
export function isPast(deadline: number, now: number = Date.now()): boolean {
  return deadline <= now;
}

/**
 * Starts a timer that calls `fire(arg)` at `deadline` — or after {@link MAX_TIMER_MS} when the deadline is further
 * off than a timer can wait: `fire` then checks {@link isPast} and starts another (no closure per call: pass the
 * object the timer is for as `arg`). Unref'd timers are the caller's choice.
 */
export function startDeadlineTimer<T>(deadline: number, fire: (arg: T) => void, arg: T): NodeJS.Timeout {
  return setTimeout(fire, Math.min(MAX_TIMER_MS, remainingMs(deadline)), arg);
}
