import { Code } from './code.js';
import { RpcError } from './rpc-error.js';

/** Deadline timer and cancellation of one call, released by `dispose`. */
export interface CallScope {
  /** Aborts with DEADLINE_EXCEEDED at the deadline or CANCELLED on cancel. */
  readonly signal: AbortSignal;
  dispose(): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Opens the scope of one call: a timer that fires exactly at `deadline` and
 * listeners on the caller's signals. Nothing stays behind after `dispose`.
 */
export function openCallScope(deadline: number, what: string, ...signals: (AbortSignal | undefined)[]): CallScope {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  const dispose = (): void => {
    for (const cleanup of cleanups) cleanup();
    cleanups.length = 0;
  };
  const abort = (reason: RpcError): void => {
    dispose();
    controller.abort(reason);
  };
  for (const signal of signals) {
    if (!signal) continue;
    if (signal.aborted) {
      abort(cancelled(signal.reason, what));
      return { signal: controller.signal, dispose };
    }
    const onAbort = (): void => abort(cancelled(signal.reason, what));
    signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => signal.removeEventListener('abort', onAbort));
  }
  const remaining = deadline - Date.now();
  if (remaining <= 0) {
    abort(deadlineExceeded(what));
  } else {
    const timer = setTimeout(() => abort(deadlineExceeded(what)), Math.min(remaining, MAX_TIMER_MS));
    cleanups.push(() => clearTimeout(timer));
  }
  return { signal: controller.signal, dispose };
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
