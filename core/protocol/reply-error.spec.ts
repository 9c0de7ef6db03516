import { describe, expect, it } from 'vitest';
import { Code } from './code.js';
import { JSON_TYPE, PROTOBUF } from './content-type.js';
import { errorToReply, replyToError } from './reply-error.js';
import { RpcError } from './rpc-error.js';

describe('error replies', () => {
  it('round-trips a status with its message', () => {
    const reply = errorToReply(new RpcError(Code.NOT_FOUND, 'no such order'), PROTOBUF);
    expect(reply.status).toBe(Code.NOT_FOUND);
    expect(replyToError(reply)).toMatchObject({ code: Code.NOT_FOUND, rawMessage: 'no such order' });
  });

  // found by test/security-fuzz.test.ts: a handler doing `throw new RpcError(request.code, …)` with an unchecked
  // number put NaN in warren-status (amqplib cannot encode it: the reply never left and the request was redelivered
  // until dead-lettered), 99 or -1 (not a status), or OK (the caller read the error as a successful answer)
  it.each([Number.NaN, 99, -1, 2 ** 31 - 1, 1.5, Code.OK])(
    'sends an error with code %s as UNKNOWN, message kept',
    (code) => {
      for (const contentType of [PROTOBUF, JSON_TYPE] as const) {
        const reply = errorToReply(new RpcError(code as Code, 'odd code'), contentType);
        expect(reply.status).toBe(Code.UNKNOWN);
        expect(replyToError(reply)).toMatchObject({ code: Code.UNKNOWN, rawMessage: 'odd code' });
      }
    },
  );
});
