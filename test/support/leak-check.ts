import { getEventListeners } from 'node:events';
import { expect } from 'vitest';
import { type AmqpTransport } from '../../core/index.js';

/**
 * What a fault test must give back when it is done: checked after a fault
 * (with the transports still open, once they recovered) and after closing
 * everything (timers and sockets back to what the process had before).
 *
 * ```ts
 * const probe = takeLeakProbe();                      // before connecting
 * ...fault, recovery...
 * await expectTransportSettled(client, { channels: 1 });
 * expectNoAbortListeners(callerSignal);
 * ...close servers and transports...
 * await expectNoHandleLeak(probe);
 * ```
 */
export interface LeakProbe {
  /** Active handles by type (`Timeout`, `TCPSocketWrap`, …) when the probe was taken. */
  readonly handles: Readonly<Record<string, number>>;
}

/** The handle types a closed transport must have given back: timers (deadlines, heartbeats, backoff) and sockets. */
const CHECKED = ['Timeout', 'TCPSocketWrap'] as const;

function countHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** Counts the process's active handles now (take it before the test connects anything). */
export function takeLeakProbe(): LeakProbe {
  return { handles: countHandles() };
}

/**
 * After every server and transport of the test was closed: no more timers
 * or TCP sockets are active than when `probe` was taken. Waits up to
 * `settleMs` for handles that are closing to go.
 */
export async function expectNoHandleLeak(probe: LeakProbe, settleMs = 5000): Promise<void> {
  const excess = (): Record<string, number> => {
    const now = countHandles();
    const over: Record<string, number> = {};
    for (const name of CHECKED) {
      const extra = (now[name] ?? 0) - (probe.handles[name] ?? 0);
      if (extra > 0) over[name] = extra;
    }
    return over;
  };
  const end = Date.now() + settleMs;
  while (Object.keys(excess()).length > 0 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(excess(), 'handles left behind (beyond those active before the test)').toEqual({});
}

/** What {@link expectTransportSettled} compares. */
export interface SettledExpectation {
  /** Exact AMQP channels the transport should hold now (1 request channel for a client, 1 per served service…). */
  readonly channels?: number;
  /** How long to wait for in-flight work to finish first. Default 5 s. */
  readonly settleMs?: number;
}

/**
 * With the transport still open (after a fault and its recovery): connected,
 * no call waiting for a reply, no call or publish waiting for a connection,
 * no publish waiting for a confirm, and (if given) exactly the channels it
 * should hold, so a reconnection left no stale channel open.
 */
export async function expectTransportSettled(
  transport: AmqpTransport,
  expected: SettledExpectation = {},
): Promise<void> {
  const snapshot = () => {
    const stats = transport.stats();
    return {
      connected: transport.connected,
      pending: stats.pending,
      waitingForConnection: stats.waitingForConnection,
      pendingPublishes: stats.pendingPublishes,
      ...(expected.channels === undefined ? {} : { channels: stats.channels }),
    };
  };
  const want = {
    connected: true,
    pending: 0,
    waitingForConnection: 0,
    pendingPublishes: 0,
    ...(expected.channels === undefined ? {} : { channels: expected.channels }),
  };
  const end = Date.now() + (expected.settleMs ?? 5000);
  while (JSON.stringify(snapshot()) !== JSON.stringify(want) && Date.now() < end)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(snapshot(), `transport ${transport.url} did not settle`).toEqual(want);
}

/** No abort listener is left on signals the test passed to its calls (every call removed its own). */
export function expectNoAbortListeners(...signals: AbortSignal[]): void {
  expect(signals.map((signal) => getEventListeners(signal, 'abort').length)).toEqual(signals.map(() => 0));
}
