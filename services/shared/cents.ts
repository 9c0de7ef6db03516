/**
 * Money in the shop's stores: int64 cents as bigint in memory (the generated
 * types), exact in SQLite (INTEGER, read back as text: a JS number loses digits
 * beyond 2^53) and as decimal strings inside JSON columns (JSON.stringify
 * cannot write a bigint).
 */

/** JSON.stringify with bigints written as decimal strings. */
export function stringifyWithCents(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
}

/** Items of a JSON column whose `unitPriceCents` was written by {@link stringifyWithCents}. */
export function parseItemsWithCents<T extends { unitPriceCents: bigint }>(text: string): T[] {
  return (JSON.parse(text) as (Omit<T, 'unitPriceCents'> & { unitPriceCents: string | number })[]).map(
    (item) => ({ ...item, unitPriceCents: BigInt(item.unitPriceCents) }) as T,
  );
}
