import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownBrokerUrl } from './broker-users-file.js';

describe('ownBrokerUrl', () => {
  it('takes <NAME>_AMQP_URL from the environment first, else from WARREN_BROKER_USERS_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-users-'));
    try {
      const file = join(dir, 'users.env');
      writeFileSync(
        file,
        '# comment\nORDERS_AMQP_URL=amqp://orders:p%3D@rabbitmq:5672/\nGATEWAY_AMQP_URL=amqp://gateway:x@rabbitmq:5672/\n',
      );
      expect(ownBrokerUrl('orders', { WARREN_BROKER_USERS_FILE: file })).toBe('amqp://orders:p%3D@rabbitmq:5672/');
      expect(ownBrokerUrl('gateway', { WARREN_BROKER_USERS_FILE: file, GATEWAY_AMQP_URL: 'amqp://env' })).toBe(
        'amqp://env',
      );
      expect(ownBrokerUrl('payments', { WARREN_BROKER_USERS_FILE: file })).toBeUndefined();
      expect(ownBrokerUrl('payments', {})).toBeUndefined();
      expect(() => ownBrokerUrl('payments', { WARREN_BROKER_USERS_FILE: join(dir, 'missing') })).toThrow(
        /WARREN_BROKER_USERS_FILE/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
