import { describe, expect, it } from 'vitest';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import { brokerUrls, firstUrlIndex } from './broker-urls.js';

describe('brokerUrls', () => {
  it('splits a comma-separated AMQP_URL into cluster nodes, ignoring blanks', () => {
    expect(brokerUrls('amqp://u:p@a:5672, amqp://u:p@b:5672 ,amqp://u:p@c:5672,')).toEqual([
      'amqp://u:p@a:5672',
      'amqp://u:p@b:5672',
      'amqp://u:p@c:5672',
    ]);
  });

  it('keeps one URL as it is, and splits entries of an array too', () => {
    expect(brokerUrls('amqp://guest:guest@127.0.0.1:5672')).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
    expect(brokerUrls(['amqp://a', 'amqp://b,amqp://c'])).toEqual(['amqp://a', 'amqp://b', 'amqp://c']);
  });

  it('refuses an empty list with INVALID_ARGUMENT', () => {
    for (const given of ['', ' , ', []]) {
      const error = (() => {
        try {
          brokerUrls(given);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe(Code.INVALID_ARGUMENT);
    }
  });
});

describe('firstUrlIndex', () => {
  it('picks every node of the list, not always the first', () => {
    expect([0, 0.34, 0.67, 0.999999].map((r) => firstUrlIndex(3, () => r))).toEqual([0, 1, 2, 2]);
    const picked = new Set(Array.from({ length: 200 }, () => firstUrlIndex(3)));
    expect(picked).toEqual(new Set([0, 1, 2]));
    expect(firstUrlIndex(1)).toBe(0);
  });
});
