import { describe, expect, it } from 'vitest';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { createMemoryTransport } from '../memory/memory-transport.js';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import { testService } from '../testing/test-service.js';
import { createClient } from './client.js';
import { createServer } from './server.js';

async function failure(promise: Promise<unknown>): Promise<RpcError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RpcError);
  return error as RpcError;
}

describe('a call nobody serves', () => {
  it('says in its DEADLINE_EXCEEDED that no instance of the service is serving', async () => {
    const transport = createMemoryTransport();
    const server = createServer({ transport }).add(
      TestServiceDefinition,
      testService('gone', transport).implementation,
    );
    await server.start();
    await server.close(); // the queue stays, with no consumer: requests wait there
    const error = await failure(
      createClient(TestServiceDefinition, transport).echo({ text: 'hi' }, { timeoutMs: 100 }),
    );
    expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(error.message).toMatch(/no instance of warren\.test\.v1\.TestService is serving/);
    await transport.close();
  });

  it('keeps the plain DEADLINE_EXCEEDED when an instance is serving but slow', async () => {
    const transport = createMemoryTransport();
    const server = createServer({ transport }).add(
      TestServiceDefinition,
      testService('slow', transport).implementation,
    );
    await server.start();
    const error = await failure(
      createClient(TestServiceDefinition, transport).sleep({ millis: 1_000 }, { timeoutMs: 100 }),
    );
    expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(error.message).not.toMatch(/no instance/);
    await server.close();
    await transport.close();
  });
});
