import type { DeadLetterNote, EventStats, MethodStats } from '../../gen/warren/mesh/v1/mesh.js';
import { LatencyRecorder } from './histogram.js';

/**
 * Most distinct methods (or event keys) counted per window and direction.
 * Method names come from the wire (a caller may send any), so beyond this
 * new ones are folded into `package.Service/*`, keeping memory and report
 * size bounded.
 */
export const MAX_STATS_KEYS = 256;
/** Most dead-letter notes one report carries; older ones of the window are dropped. */
export const MAX_DEAD_LETTER_NOTES = 20;

/** How one event delivery ended, as the subscriber settled it. */
export type HandledOutcome = 'ack' | 'retry' | 'dead';

interface CallCounter {
  calls: number;
  readonly errors: Map<number, number>;
  readonly latency: LatencyRecorder;
}

interface EventCounter {
  readonly group: string;
  readonly type: string;
  readonly publisher: string;
  handled: number;
  retried: number;
  deadLettered: number;
  readonly latency: LatencyRecorder;
}

/** What one window counted, in the proto's shapes. */
export interface MeshWindow {
  readonly served: MethodStats[];
  readonly called: MethodStats[];
  readonly handled: EventStats[];
  readonly deadLetters: DeadLetterNote[];
}

/**
 * The counters of one report window: calls served and sent per method
 * (outcome code and latency), event deliveries per group, type and
 * publisher, and the events dead-lettered. `take()` hands them over and
 * starts the next window. Everything is plain counting on the caller's
 * thread: no timers, no I/O.
 */
export class MeshStats {
  private served = new Map<string, CallCounter>();
  private called = new Map<string, CallCounter>();
  private handled = new Map<string, EventCounter>();
  private deadLetters: DeadLetterNote[] = [];

  /** A request this process served from `service`'s queue: its method, outcome code (0 = OK) and handling time. */
  recordServed(service: string, method: string, code: number, ms: number): void {
    count(this.served, service, method, code, ms);
  }

  /** A request this process sent to `service` (one attempt): the method, outcome code and round-trip time. */
  recordCalled(service: string, method: string, code: number, ms: number): void {
    count(this.called, service, method, code, ms);
  }

  /** An event delivery a handler of this process finished. */
  recordHandled(group: string, type: string, publisher: string, outcome: HandledOutcome, ms: number): void {
    let key = `${group}\u0000${type}\u0000${publisher}`;
    let counter = this.handled.get(key);
    if (!counter && this.handled.size >= MAX_STATS_KEYS) {
      key = `${group}\u0000*\u0000*`;
      counter = this.handled.get(key);
      type = '*';
      publisher = '*';
    }
    if (!counter) {
      counter = { group, type, publisher, handled: 0, retried: 0, deadLettered: 0, latency: new LatencyRecorder() };
      this.handled.set(key, counter);
    }
    counter.handled++;
    if (outcome === 'retry') counter.retried++;
    if (outcome === 'dead') counter.deadLettered++;
    counter.latency.record(ms);
  }

  /** An event this process moved to a dead-letter queue. */
  noteDeadLetter(note: DeadLetterNote): void {
    this.deadLetters.push(note);
    if (this.deadLetters.length > MAX_DEAD_LETTER_NOTES) this.deadLetters.shift();
  }

  /** Everything counted since the last call, and a fresh window. */
  take(): MeshWindow {
    const window: MeshWindow = {
      served: methodStats(this.served),
      called: methodStats(this.called),
      handled: [...this.handled.values()].map((c) => ({
        group: c.group,
        type: c.type,
        publisher: c.publisher,
        handled: c.handled,
        retried: c.retried,
        deadLettered: c.deadLettered,
        latency: c.latency.toProto(),
      })),
      deadLetters: this.deadLetters,
    };
    this.served = new Map();
    this.called = new Map();
    this.handled = new Map();
    this.deadLetters = [];
    return window;
  }
}

function count(counters: Map<string, CallCounter>, service: string, method: string, code: number, ms: number): void {
  let counter = counters.get(method);
  if (!counter) {
    if (counters.size >= MAX_STATS_KEYS) {
      method = `${service}/*`;
      counter = counters.get(method);
    }
    if (!counter) {
      counter = { calls: 0, errors: new Map(), latency: new LatencyRecorder() };
      counters.set(method, counter);
    }
  }
  counter.calls++;
  if (code !== 0) counter.errors.set(code, (counter.errors.get(code) ?? 0) + 1);
  counter.latency.record(ms);
}

function methodStats(counters: Map<string, CallCounter>): MethodStats[] {
  return [...counters].map(([method, c]) => ({
    method,
    calls: c.calls,
    errors: Object.fromEntries([...c.errors].map(([code, n]) => [code, BigInt(n)])),
    latency: c.latency.toProto(),
  }));
}
