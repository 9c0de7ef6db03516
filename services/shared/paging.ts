/**
 * AIP-158-style paging for the example services' List methods: newest first,
 * keyed by each table's autoincrement `seq`; the page token is opaque to
 * clients (base64url JSON of the last row's seq).
 */
import { Code, RpcError } from 'warren';

/** Page size when a request sets none. */
export const DEFAULT_PAGE_SIZE = 20;
/** Larger page sizes are lowered to this. */
export const MAX_PAGE_SIZE = 100;

/** A page request made safe: `before` is the seq to list below (exclusive). */
export interface Page {
  readonly size: number;
  readonly before: number;
}

/** Checks `page_size` (0 = default, above the max = the max, negative = INVALID_ARGUMENT) and decodes `page_token`. */
export function readPage(pageSize: number, pageToken: string): Page {
  if (pageSize < 0) throw new RpcError(Code.INVALID_ARGUMENT, `page_size must not be negative, got ${pageSize}`);
  const size = pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(pageSize, MAX_PAGE_SIZE);
  if (pageToken === '') return { size, before: Number.MAX_SAFE_INTEGER };
  try {
    const parsed = JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8')) as { before?: unknown };
    if (Number.isSafeInteger(parsed.before) && (parsed.before as number) > 0)
      return { size, before: parsed.before as number };
  } catch {
    // fall through to the error below
  }
  throw new RpcError(
    Code.INVALID_ARGUMENT,
    'page_token is not a token this service issued; pass next_page_token of the previous page',
  );
}

/**
 * Trims the `size + 1` rows a query fetched to one page, and the token of
 * the next page ('' on the last).
 */
export function pageOf<R extends { seq: number }>(
  rows: readonly R[],
  page: Page,
): { rows: R[]; nextPageToken: string } {
  if (rows.length <= page.size) return { rows: [...rows], nextPageToken: '' };
  const kept = rows.slice(0, page.size);
  const before = kept[kept.length - 1]!.seq;
  return { rows: kept, nextPageToken: Buffer.from(JSON.stringify({ before })).toString('base64url') };
}
