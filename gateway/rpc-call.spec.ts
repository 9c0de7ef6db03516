import { describe, expect, it } from 'vitest';
import { Code, PROTOBUF, RpcError, type Transport, type WireReply, type WireRequest } from '../core/index.js';
import { describeService } from '../core/protocol/index.js';
import { loadProtos } from '../core/tooling.js';
import { markConnectionLoss } from '../core/tooling.js';
import { createGatewayCaller } from './rpc-call.js';

const registry = await loadProtos({ root: 'proto' });
const service = registry.findService('warren.test.v1.TestService')!;
const infos = describeService(service);

/** A transport whose first `failures` requests fail as given, then answers OK with an empty message. */
function flakyTransport(failures: RpcError[]): { transport: Transport; sent: WireRequest[] } {
  const sent: WireRequest[] = [];
  const transport = {
    kind: 'memory',
    request(request: WireRequest): Promise<WireReply> {
      sent.push(request);
      const failure = failures.shift();
      if (failure) return Promise.reject(failure);
      return Promise.resolve({
        status: Code.OK,
        message: '',
        contentType: PROTOBUF,
        body: new Uint8Array(),
        metadata: {},
      } as WireReply);
    },
  } as unknown as Transport;
  return { transport, sent };
}

const callOf = (name: string, transport: Transport) => {
  const info = infos.find((candidate) => candidate.name === name)!;
  const method = Object.values(service.methods).find((candidate) => candidate.name === name)!;
  const caller = createGatewayCaller(info, method, transport, []);
  return () =>
    caller({
      request: method.requestType.fromPartial({}),
      metadata: {},
      deadline: Date.now() + 5_000,
      signal: new AbortController().signal,
    });
};
const lost = (): RpcError =>
  markConnectionLoss(new RpcError(Code.UNAVAILABLE, 'connection lost before the reply came'));

describe('createGatewayCaller', () => {
  it('sends an idempotent call again, once and with the same message id, when its broker connection dropped under it', async () => {
    const { transport, sent } = flakyTransport([lost()]);
    await expect(callOf('Sleep', transport)()).resolves.toBeDefined();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.messageId).toBe(sent[0]!.messageId);
  });

  it('does not send again twice, nor for other failures, nor for unsafe methods', async () => {
    const twice = flakyTransport([lost(), lost()]);
    await expect(callOf('Sleep', twice.transport)()).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    expect(twice.sent).toHaveLength(2);
    const other = flakyTransport([new RpcError(Code.UNAVAILABLE, 'no queue is bound')]);
    await expect(callOf('Sleep', other.transport)()).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    expect(other.sent).toHaveLength(1);
    const unsafe = flakyTransport([lost()]);
    await expect(callOf('Increment', unsafe.transport)()).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    expect(unsafe.sent).toHaveLength(1);
  });
});
