import { pino, type DestinationStream } from 'pino';
import { logContextFields } from './log-context.js';

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
 * Fields whose values never reach a log line (pino `redact` paths, at the top
 * level and one object down): credentials and tokens a caller might pass in
 * a logged object.
 */
export const REDACTED_LOG_FIELDS: readonly string[] = [
  'password',
  'passphrase',
  'secret',
  'token',
  'apiKey',
  'authorization',
  'cookie',
  'paymentToken',
].flatMap((key) => [key, `*.${key}`]);

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Default `WARREN_LOG_LEVEL`, else `info`. */
  readonly level?: string;
  /** Where lines go. Default stdout. */
  readonly destination?: DestinationStream;
  /** The `name` field. Default `warren`. */
  readonly name?: string;
}

/**
 * A pino logger set up the way Warren logs: one JSON line per event; the
 * active trace's `trace_id` and `span_id` on every line written while a span
 * is active (tracing on), and the handled call's or event's `requestId`
 * (`logContextFields`); {@link REDACTED_LOG_FIELDS} replaced by
 * `[redacted]`; any `url` field passed through {@link redactUrl}.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const settings = {
    name: options.name ?? 'warren',
    level: options.level ?? process.env['WARREN_LOG_LEVEL'] ?? 'info',
    mixin: logContextFields,
    redact: { paths: [...REDACTED_LOG_FIELDS], censor: '[redacted]' },
    serializers: { url: (value: unknown) => (typeof value === 'string' ? redactUrl(value) : value) },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/**
 * The process-wide default logger: {@link createLogger} writing to stdout at
 * the level in `WARREN_LOG_LEVEL` (default `info`).
 */
export function defaultLogger(): Logger {
  root ??= createLogger();
  return root;
}

/**
 * `amqp://user:secret@host` → `amqp://user:***@host`, for logs and errors.
 * Everything from the first `:` after the scheme to the last `@` counts as
 * the password, so one holding characters a URL should have escaped (`/`,
 * `@`, `?`, `#`) is still hidden; a URL with an `@` in its path loses a bit
 * more than the password, never less.
 */
export function redactUrl(url: string): string {
  const scheme = url.indexOf('://');
  if (scheme < 0) return url;
  const start = scheme + 3;
  const at = url.lastIndexOf('@');
  const colon = url.indexOf(':', start);
  if (at < start || colon < 0 || colon > at) return url;
  return `${url.slice(0, colon)}:***${url.slice(at)}`;
}
