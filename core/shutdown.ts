/** Anything with an async `close()`: servers, transports, gateways. */
export interface Closable {
  close(): Promise<void>;
}

/** Options of {@link closeOnSignals}. */
export interface CloseOnSignalsOptions {
  /** Signals that start a graceful shutdown. Default SIGTERM and SIGINT. */
  readonly signals?: readonly NodeJS.Signals[];
  /** Hard limit for the whole shutdown; then the process exits with code 1. Default 30 000 ms. */
  readonly timeoutMs?: number;
  /** Called when shutdown starts (e.g. to log). */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

/**
 * Graceful drain for a service process: on SIGTERM (or SIGINT) close each
 * closable in order — typically the server first (stop taking requests, let
 * in-flight ones finish, reply, ack) and the transport last — then exit 0.
 * A second signal or the time limit exits at once with code 1.
 */
export function closeOnSignals(closables: readonly Closable[], options: CloseOnSignalsOptions = {}): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) process.exit(1);
    closing = true;
    options.onSignal?.(signal);
    setTimeout(() => process.exit(1), options.timeoutMs ?? 30_000).unref();
    void (async () => {
      for (const closable of closables) await closable.close();
      process.exit(0);
    })().catch(() => process.exit(1));
  };
  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, onSignal);
}
