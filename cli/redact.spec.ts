import { describe, expect, it } from 'vitest';
import { redactMetadata } from './redact.js';

describe('redactMetadata', () => {
  it('hides credential values and keeps the rest', () => {
    expect(
      redactMetadata({
        authorization: 'Bearer t',
        'x-api-key': 'k',
        'session-id': 's',
        cookie: 'c',
        'refresh-token': 'r',
        'db-password': 'p',
        'tenant-id': 'acme',
        traceparent: '00-1',
      }),
    ).toEqual({
      authorization: '***',
      'x-api-key': '***',
      'session-id': '***',
      cookie: '***',
      'refresh-token': '***',
      'db-password': '***',
      'tenant-id': 'acme',
      traceparent: '00-1',
    });
  });
});
