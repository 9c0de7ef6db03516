import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import { isPast, startDeadlineTimer } from '../protocol/deadline.js';

/** Deadline timer and cancellation of one call, released by `dispose`. */
export interface CallScope {
  /** Aborts with DEADLINE_EXCEEDED at the deadline or CANCELLED on cancel. */
  readonly signal: AbortSignal;
  /**
   * Settles like `promise`, or rejects with the signal's reason the moment
   * the scope aborts, even if `promise` never settles. One race per scope.
   */
  race<T>(promise: Promise<T>): Promise<T>;
  dispose(): void;
}

/**
 * Opens the scope of one call: a timer that fires exactly at `deadline` and
 * listeners on the caller's signals. Nothing stays behind after `dispose`.
 */
export function openCallScope(deadline: number, what: string, ...signals: (AbortSignal | undefined)[]): CallScope {
  return new Scope(deadline, what, signals);
}

/**
 * One object per call does all of it: it is the listener on the caller's
 * signals (`handleEvent`) and the timer's argument, so a call allocates no
 * closures for its scope (calls are the hot path).
 */
class Scope implements CallScope {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private listening: (AbortSignal | undefined)[] | undefined;
  private loser: ((reason: unknown) => void) | undefined;

  constructor(
    private readonly deadline: number,
    private readonly what: string,
    signals: (AbortSignal | undefined)[],
  ) {
    for (const signal of signals) {
      if (!signal) continue;
      if (signal.aborted) {
        this.abort(cancelled(signal.reason, what));
        return;
      }
      signal.addEventListener('abort', this, { once: true });
      this.listening = signals;
    }
    if (isPast(deadline)) this.abort(deadlineExceeded(what));
    else this.timer = startDeadlineTimer(deadline, onDeadline, this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  race<T>(promise: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      this.loser = reject;
      promise.then(
        (value) => {
          this.loser = undefined;
          resolve(value);
        },
        (error: unknown) => {
          this.loser = undefined;
          reject(error);
        },
      );
    });
  }

  dispose(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const signals = this.listening;
    if (signals === undefined) return;
    this.listening = undefined;
    for (const signal of signals) signal?.removeEventListener('abort', this);
  }

  /** A caller's signal aborted. */
  handleEvent(event: Event): void {
    this.abort(cancelled((event.target as AbortSignal).reason, this.what));
  }

  expire(): void {
    if (!isPast(this.deadline)) {
      // a deadline beyond the longest timer Node allows: wait another stretch
      this.timer = startDeadlineTimer(this.deadline, onDeadline, this);
      return;
    }
    this.timer = undefined;
    this.abort(deadlineExceeded(this.what));
  }

  private abort(reason: RpcError): void {
    this.dispose();
    this.controller.abort(reason);
    const loser = this.loser;
    this.loser = undefined;
    loser?.(reason);
  }
}

function onDeadline(scope: Scope): void {
  scope.expire();
}

function deadlineExceeded(what: string): RpcError {
  return new RpcError(Code.DEADLINE_EXCEEDED, `deadline exceeded calling ${what}`);
}

/** A parent that ended with an RpcError passes its code on; anything else is CANCELLED. */
function cancelled(reason: unknown, what: string): RpcError {
  if (reason instanceof RpcError && (reason.code === Code.DEADLINE_EXCEEDED || reason.code === Code.CANCELLED)) {
    return new RpcError(reason.code, `${reason.rawMessage} (calling ${what})`);
  }
  return new RpcError(Code.CANCELLED, `call to ${what} cancelled`, { cause: reason });
}
