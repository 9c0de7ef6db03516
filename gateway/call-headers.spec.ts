import { describe, expect, it } from 'vitest';
import { RpcError } from '../core/index.js';
import { checkForwardHeaders, metadataOf, requestIdOf, timeoutOf } from './call-headers.js';
import { httpStatusOf } from './http-status.js';

describe('call headers', () => {
  it('reads the timeout header, defaulting and capping it', () => {
    expect(timeoutOf({}, 10_000, 60_000)).toBe(10_000);
    expect(timeoutOf({ 'x-warren-timeout-ms': '250' }, 10_000, 60_000)).toBe(250);
    expect(timeoutOf({ 'x-warren-timeout-ms': '999999' }, 10_000, 60_000)).toBe(60_000);
    expect(timeoutOf({}, 90_000, 60_000)).toBe(60_000);
  });

  it.each(['0', '-1', '1e3', '12ms', ''])('refuses the timeout %j with a 400', (value) => {
    let error: unknown;
    try {
      timeoutOf({ 'x-warren-timeout-ms': value }, 10_000, 60_000);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RpcError);
    expect(httpStatusOf(error as RpcError)).toBe(400);
  });

  it('keeps sane request ids and generates the others', () => {
    expect(requestIdOf({ 'x-request-id': 'abc-123' })).toBe('abc-123');
    expect(requestIdOf({ 'x-request-id': 'has space' })).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf({})).not.toBe(requestIdOf({}));
  });

  it('forwards allow-listed headers only, joining repeated ones', () => {
    const metadata = metadataOf(
      { traceparent: 't', baggage: 'a=1', cookie: 'secret', 'x-forwarded-for': 'ip' },
      ['traceparent', 'baggage'],
      'id-1',
    );
    expect(metadata).toEqual({ 'request-id': 'id-1', traceparent: 't', baggage: 'a=1' });
    expect(
      metadataOf({ 'accept-language': ['en', 'fr'] as unknown as string }, ['accept-language'], 'x')['accept-language'],
    ).toBe('en, fr');
  });

  it('refuses forwarded metadata over the size limit with a 400', () => {
    expect(() => metadataOf({ baggage: 'x'.repeat(9000) }, ['baggage'], 'id')).toThrow(/metadata/);
  });

  it('checks the allow-list at start-up', () => {
    expect(checkForwardHeaders(['Traceparent', ' baggage '])).toEqual(['traceparent', 'baggage']);
    expect(() => checkForwardHeaders(['x-tenant'])).toThrow(/reserved/);
    expect(() => checkForwardHeaders(['warren-status'])).toThrow(/reserved/);
    expect(() => checkForwardHeaders(['request-id'])).toThrow(/gateway itself/);
  });
});
