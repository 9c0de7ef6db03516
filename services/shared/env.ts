/**
 * Reading a service's settings from the environment: every example service
 * is configured by environment variables only (12-factor), and a bad value
 * stops the process at start with a message naming the variable.
 */
import { resolve } from 'node:path';

/** A whole number from the environment (the runtime's own reader, so services and runner agree). */
export { envInteger } from 'warren';

/** A fraction in [0, 1] from `name` (e.g. a failure rate), `fallback` when unset. */
export function envFraction(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new Error(`${name} must be a number from 0 to 1, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * A latency range in milliseconds: `"100"` (fixed) or `"50-250"` (uniform),
 * `fallback` when unset.
 */
export function envRange(name: string, fallback: readonly [number, number]): readonly [number, number] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw);
  const low = match ? Number(match[1]) : NaN;
  const high = match?.[2] === undefined ? low : Number(match[2]);
  if (!match || high < low)
    throw new Error(`${name} must be milliseconds like "100" or "50-250", got ${JSON.stringify(raw)}`);
  return [low, high];
}

/** Where services keep their SQLite files: `DATA_DIR`, default `./data` (relative to the working directory). */
export function dataDir(): string {
  return resolve(process.env['DATA_DIR'] || 'data');
}
