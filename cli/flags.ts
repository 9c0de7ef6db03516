import { Code } from '../core/index.js';
import { CliError, ExitCode } from './exit-codes.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000 } as const;

/**
 * Parses a duration flag: a number with a unit, `250ms`, `2s`, `1.5s`, `1m`.
 * A bare number is refused (is `5` seconds or milliseconds?). Usage error
 * (exit 2) naming the flag otherwise.
 */
export function parseDuration(text: string, flag: string): number {
  const match = DURATION.exec(text.trim());
  const ms = match ? Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new CliError(
      ExitCode.USAGE,
      Code.INVALID_ARGUMENT,
      `${flag} must be a positive duration with a unit, e.g. 500ms, 2s or 1m (got ${JSON.stringify(text)})`,
    );
  }
  return ms;
}

/** Shows milliseconds the way {@link parseDuration} reads them: `500ms`, `2s`, `1.5s`. */
export function formatDuration(ms: number): string {
  return ms < 1_000 ? `${ms}ms` : `${Number((ms / 1_000).toFixed(3))}s`;
}

/**
 * Parses repeated `-H key:value` flags into call metadata. Keys are
 * lower-cased (as HTTP headers are compared); whitespace around the key and
 * the value is trimmed; a later flag for the same key wins. The metadata
 * rules themselves (key syntax, reserved prefixes, size) are checked by the
 * runtime when the call is made.
 */
export function parseHeaders(flags: readonly string[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const flag of flags) {
    const colon = flag.indexOf(':');
    if (colon <= 0)
      throw new CliError(ExitCode.USAGE, Code.INVALID_ARGUMENT, `-H takes key:value, got ${JSON.stringify(flag)}`);
    metadata[flag.slice(0, colon).trim().toLowerCase()] = flag.slice(colon + 1).trim();
  }
  return metadata;
}

/** Parses a positive whole number flag (`--limit 10`). Usage error otherwise. */
export function parseCount(text: string, flag: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new CliError(
      ExitCode.USAGE,
      Code.INVALID_ARGUMENT,
      `${flag} must be a positive whole number (got ${JSON.stringify(text)})`,
    );
  }
  return value;
}
