/**
 * A whole number from the environment variable `name`: `fallback` when unset or empty; throws, naming the variable,
 * when malformed or out of `[min, max]` (default `[0, MAX_SAFE_INTEGER]`), so a bad setting stops a process at start.
 */
export function envInteger(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
