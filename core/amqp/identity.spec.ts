import { describe, expect, it } from 'vitest';
import { messageIdentity, relayIdentity } from './identity.js';
import { ORIGIN_USER_HEADER } from '../protocol/headers.js';

describe('messageIdentity', () => {
  it('is the user_id of a message from anyone else, ignoring a warren-origin-user header it sets', () => {
    expect(messageIdentity({ userId: 'gateway' }, 'payments')).toBe('gateway');
    expect(messageIdentity({ userId: 'gateway', headers: { [ORIGIN_USER_HEADER]: 'orders' } }, 'payments')).toBe(
      'gateway',
    );
    expect(messageIdentity({ headers: { [ORIGIN_USER_HEADER]: 'orders' } }, 'payments')).toBeUndefined();
    expect(messageIdentity({ userId: '' }, 'payments')).toBeUndefined();
  });

  it("believes warren-origin-user only on a copy published with the receiver's own user", () => {
    expect(messageIdentity({ userId: 'payments', headers: { [ORIGIN_USER_HEADER]: 'orders' } }, 'payments')).toBe(
      'orders',
    );
    expect(
      messageIdentity({ userId: 'payments', headers: { [ORIGIN_USER_HEADER]: Buffer.from('orders') } }, 'payments'),
    ).toBe('orders');
    // a copy of a request that proved no identity proves none either
    expect(messageIdentity({ userId: 'payments', headers: { [ORIGIN_USER_HEADER]: '' } }, 'payments')).toBeUndefined();
    // the service's own calls (no header) are its own
    expect(messageIdentity({ userId: 'payments', headers: {} }, 'payments')).toBe('payments');
    // without a known own user nothing is relayed
    expect(messageIdentity({ userId: 'payments', headers: { [ORIGIN_USER_HEADER]: 'orders' } }, undefined)).toBe(
      'payments',
    );
  });
});

describe('relayIdentity', () => {
  it('stamps the own user and the original identity, replacing a header the original carried', () => {
    const copy = relayIdentity({ headers: { [ORIGIN_USER_HEADER]: 'forged', keep: 'x' } }, 'orders', 'payments');
    expect(copy.userId).toBe('payments');
    expect(copy.headers).toEqual({ [ORIGIN_USER_HEADER]: 'orders', keep: 'x' });
    expect(messageIdentity(copy, 'payments')).toBe('orders');
  });

  it('marks a copy of an anonymous message as anonymous, and relays nothing without an own user', () => {
    const anonymous = relayIdentity({ headers: { [ORIGIN_USER_HEADER]: 'forged' } }, undefined, 'payments');
    expect(anonymous.headers).toEqual({ [ORIGIN_USER_HEADER]: '' });
    expect(messageIdentity(anonymous, 'payments')).toBeUndefined();
    const unstamped = relayIdentity({ userId: 'x', headers: { [ORIGIN_USER_HEADER]: 'forged' } }, 'orders', undefined);
    expect(unstamped.userId).toBeUndefined();
    expect(unstamped.headers).toEqual({});
  });
});
