/**
 * The product catalogue inventory starts from: a JSON file (INVENTORY_CATALOG,
 * default services/inventory/catalog.json) of
 * `{ sku, name, unitPriceCents, currencyCode, stock }`. Products are added
 * the first time the service sees them; stock already in the database is
 * never overwritten, so restarts keep what was sold.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One catalogue entry. */
export interface CatalogProduct {
  readonly sku: string;
  readonly name: string;
  readonly unitPriceCents: number;
  readonly currencyCode: string;
  /** Units in stock when the product is first added. */
  readonly stock: number;
}

/** The catalogue shipped with the example. */
export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL('./catalog.json', import.meta.url));

/** SKUs: upper-case letters, digits and dashes. */
export const SKU_PATTERN = /^[A-Z0-9][A-Z0-9-]{0,39}$/;

/** Reads and checks a catalogue file; throws naming the file and entry. */
export function loadCatalog(path: string = DEFAULT_CATALOG_PATH): CatalogProduct[] {
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the catalogue ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(entries)) throw new Error(`catalogue ${path} must be a JSON array`);
  return entries.map((entry: Record<string, unknown>, index) => {
    const where = `catalogue ${path} entry ${index}`;
    const { sku, name, unitPriceCents, currencyCode, stock } = entry;
    if (typeof sku !== 'string' || !SKU_PATTERN.test(sku)) throw new Error(`${where}: sku must match ${SKU_PATTERN}`);
    if (typeof name !== 'string' || name === '') throw new Error(`${where}: name must be a non-empty string`);
    if (!Number.isSafeInteger(unitPriceCents) || (unitPriceCents as number) < 0)
      throw new Error(`${where}: unitPriceCents must be a whole number of cents`);
    if (typeof currencyCode !== 'string' || !/^[A-Z]{3}$/.test(currencyCode))
      throw new Error(`${where}: currencyCode must be an ISO 4217 code like "EUR"`);
    if (!Number.isSafeInteger(stock) || (stock as number) < 0)
      throw new Error(`${where}: stock must be a whole number, 0 or more`);
    return { sku, name, unitPriceCents: unitPriceCents as number, currencyCode, stock: stock as number };
  });
}
