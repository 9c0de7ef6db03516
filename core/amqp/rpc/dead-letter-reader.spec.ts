import type { GetMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { readRpcDeadLetter } from './dead-letter-reader.js';

function message(properties: Record<string, unknown>, headers: Record<string, unknown>): GetMessage {
  return {
    content: Buffer.from('body'),
    fields: {} as GetMessage['fields'],
    properties: { ...properties, headers } as unknown as GetMessage['properties'],
  };
}

describe('readRpcDeadLetter', () => {
  it('reads what a server recorded when it took the request out of service', () => {
    const letter = readRpcDeadLetter(
      message(
        {
          type: 'shop.v1.Orders/Create',
          messageId: 'm-1',
          correlationId: 'c-1',
          contentType: 'application/json',
          timestamp: 1_700_000_000,
        },
        {
          'warren-deadline': 1_700_000_010_000n,
          'warren-dead-reason': 'delivered 6 times',
          'warren-deliveries': 6,
          'warren-dead-at': 1_700_000_005_000,
          'warren-caller': 'ann',
          tenant: 'acme',
          'x-death': [],
        },
      ),
    );
    expect(letter).toEqual({
      messageId: 'm-1',
      method: 'shop.v1.Orders/Create',
      reason: 'delivered 6 times',
      deliveries: 6,
      caller: 'ann',
      deadAt: 1_700_000_005_000,
      sentAt: 1_700_000_000_000,
      deadline: 1_700_000_010_000,
      contentType: 'application/json',
      body: Buffer.from('body'),
      metadata: { tenant: 'acme' },
    });
  });

  it("takes the caller the server recorded over the copy's own user_id (the server's), empty meaning none", () => {
    expect(readRpcDeadLetter(message({ userId: 'orders-service' }, { 'warren-caller': 'ann' })).caller).toBe('ann');
    expect(readRpcDeadLetter(message({ userId: 'orders-service' }, { 'warren-caller': '' })).caller).toBeUndefined();
    expect(readRpcDeadLetter(message({ userId: 'bob' }, {})).caller).toBe('bob'); // a server that did not record it
  });

  it('falls back to the correlation id, and leaves out what was not sent', () => {
    const letter = readRpcDeadLetter(message({ correlationId: 'c-2' }, {}));
    expect(letter).toMatchObject({ messageId: 'c-2', method: '', reason: '(no reason recorded)' });
    expect([
      letter.caller,
      letter.deliveries,
      letter.deadAt,
      letter.sentAt,
      letter.deadline,
      letter.contentType,
    ]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});
