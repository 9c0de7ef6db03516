import { describe, expect, it } from 'vitest';
import { Code, RpcError } from 'warren';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf, readPage } from './paging.js';

describe('paging', () => {
  it('defaults, caps and refuses page sizes', () => {
    expect(readPage(0, '').size).toBe(DEFAULT_PAGE_SIZE);
    expect(readPage(5000, '').size).toBe(MAX_PAGE_SIZE);
    expect(() => readPage(-1, '')).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
  });

  it('hands out a token that continues below the last row, and none on the last page', () => {
    const rows = [9, 8, 7].map((seq) => ({ seq }));
    const first = pageOf(rows, readPage(2, ''));
    expect(first.rows.map((row) => row.seq)).toEqual([9, 8]);
    expect(readPage(2, first.nextPageToken).before).toBe(8);
    expect(pageOf([{ seq: 7 }], readPage(2, first.nextPageToken)).nextPageToken).toBe('');
  });

  it('refuses tokens it did not issue', () => {
    for (const token of [
      'bogus',
      Buffer.from('{"before":-3}').toString('base64url'),
      Buffer.from('[]').toString('base64url'),
    ]) {
      expect(() => readPage(10, token)).toThrow(RpcError);
    }
  });
});
