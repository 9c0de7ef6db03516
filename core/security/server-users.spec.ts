import { describe, expect, it } from 'vitest';
import { serverUsersFromConfig } from './server-users.js';

describe('serverUsersFromConfig', () => {
  it('names the prefixed user serving a service, and none for unknown or shared services', () => {
    const users = serverUsersFromConfig(
      {
        users: {
          payments: { serves: ['shop.payments.v1.PaymentService'] },
          a: { serves: ['x.S'] },
          b: { serves: ['x.S'] },
          gateway: {},
        },
      },
      'staging-',
    );
    expect(users('shop.payments.v1.PaymentService')).toBe('staging-payments');
    expect(users('x.S')).toBeUndefined();
    expect(users('other.Service')).toBeUndefined();
  });
});
