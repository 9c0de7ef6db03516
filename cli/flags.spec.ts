import { describe, expect, it } from 'vitest';
import { CliError } from './exit-codes.js';
import { formatDuration, parseCount, parseDuration, parseHeaders } from './flags.js';

describe('flags', () => {
  it('parses durations with a unit and refuses bare or non-positive numbers', () => {
    expect([
      parseDuration('250ms', '--timeout'),
      parseDuration('2s', '--timeout'),
      parseDuration('1.5s', '--timeout'),
      parseDuration('1m', '--timeout'),
    ]).toEqual([250, 2000, 1500, 60000]);
    for (const bad of ['5', '0s', '-1s', '2h', 's', ''])
      expect(() => parseDuration(bad, '--timeout')).toThrow(CliError);
    expect(() => parseDuration('5', '--timeout')).toThrow(
      '--timeout must be a positive duration with a unit, e.g. 500ms, 2s or 1m (got "5")',
    );
  });

  it('formats durations the way they are parsed', () => {
    expect([formatDuration(500), formatDuration(2000), formatDuration(1500)]).toEqual(['500ms', '2s', '1.5s']);
  });

  it('parses -H key:value, lower-casing keys, trimming, keeping colons in values; the last one wins', () => {
    expect(parseHeaders(['Tenant: acme', 'traceparent:00-ab:cd', 'tenant:beta'])).toEqual({
      tenant: 'beta',
      traceparent: '00-ab:cd',
    });
    expect(() => parseHeaders(['novalue'])).toThrow('-H takes key:value, got "novalue"');
    expect(() => parseHeaders([':x'])).toThrow(CliError);
  });

  it('parses positive whole counts', () => {
    expect(parseCount('10', '--limit')).toBe(10);
    for (const bad of ['0', '-1', '1.5', 'ten'])
      expect(() => parseCount(bad, '--limit')).toThrow('--limit must be a positive whole number');
  });
});
