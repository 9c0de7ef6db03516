import { pino } from 'pino';

/**
 * The logging surface Warren uses: pino's. Pass your own pino logger (or any
 * object with these methods) to clients, servers and transports.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

let root: Logger | undefined;

/**
 * The process-wide default logger: pino writing JSON lines to stdout at the
 * level in `WARREN_LOG_LEVEL` (default `info`). Broker URLs are redacted by
 * the code that logs them (see `redactUrl`).
 */
export function defaultLogger(): Logger {
  root ??= pino({ name: 'warren', level: process.env['WARREN_LOG_LEVEL'] ?? 'info' });
  return root;
}

/** `amqp://user:secret@host` → `amqp://user:***@host`, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}
