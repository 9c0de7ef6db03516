import { afterEach, describe, expect, it, vi } from 'vitest';
import { EchoRequest, SleepRequest, TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { Code } from '../protocol/code.js';
import { PROTOBUF } from '../protocol/content-type.js';
import { describeService } from '../protocol/definition.js';
import { Abandoned, createDispatcher, type MethodHandler } from './dispatcher.js';
import type { HandlerContext } from '../handler-context.js';
import type { Logger } from '../observability/logger.js';
import { RpcError } from '../protocol/rpc-error.js';
import type { Delivery } from '../transport.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const methods = new Map(describeService(TestServiceDefinition).map((info) => [info.path, info]));
const SERVICE = TestServiceDefinition.fullName;

function dispatcherWith(handlers: Record<string, MethodHandler>) {
  return createDispatcher({
    instance: 'spec',
    logger: silent,
    interceptors: [],
    requireIdentity: false,
    lookup: (_service, path) => {
      const info = methods.get(path);
      const handler = info && handlers[info.localName];
      return info && handler ? { info, handler } : undefined;
    },
    methodsOf: () => [...methods.keys()],
    isServing: () => true,
  });
}

function delivery(method: string, body: Uint8Array, deadline: number): Delivery {
  return {
    request: {
      service: SERVICE,
      method: `${SERVICE}/${method}`,
      contentType: PROTOBUF,
      body,
      metadata: {},
      deadline,
      messageId: 'm-1',
    },
    unsupportedContentType: undefined,
    redelivered: false,
    userId: undefined,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('dispatcher', () => {
  it('answers a synchronous handler without arming a deadline timer', async () => {
    vi.useFakeTimers();
    const dispatcher = dispatcherWith({ echo: (request: EchoRequest) => ({ text: request.text }) });
    const reply = dispatcher.dispatch(
      SERVICE,
      delivery('Echo', EchoRequest.encode(EchoRequest.fromPartial({ text: 'hi' })).finish(), Date.now() + 1000),
    );
    expect(vi.getTimerCount()).toBe(0);
    expect((await reply)?.status).toBe(Code.OK);
  });

  it('sends no reply once the deadline passes, and aborts the handler signal even if it is read late', async () => {
    vi.useFakeTimers();
    let ctx: HandlerContext | undefined;
    const dispatcher = dispatcherWith({
      sleep: (_request: SleepRequest, context: HandlerContext) => {
        ctx = context;
        return new Promise(() => undefined);
      },
    });
    const reply = dispatcher.dispatch(
      SERVICE,
      delivery('Sleep', SleepRequest.encode(SleepRequest.fromPartial({ millis: 5000 })).finish(), Date.now() + 100),
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(await reply).toBeNull();
    expect(ctx!.signal.aborted).toBe(true);
    expect((ctx!.signal.reason as RpcError).code).toBe(Code.DEADLINE_EXCEEDED);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps a handler whose deadline lies beyond the longest timer Node allows', async () => {
    vi.useFakeTimers();
    let signal: AbortSignal | undefined;
    let finish: (() => void) | undefined;
    const dispatcher = dispatcherWith({
      sleep: (_request: SleepRequest, context: HandlerContext) => {
        signal = context.signal;
        return new Promise<object>((resolve) => {
          finish = () => resolve({ sleptMs: 1 });
        });
      },
    });
    const days30 = 30 * 24 * 3600 * 1000;
    const reply = dispatcher.dispatch(
      SERVICE,
      delivery('Sleep', SleepRequest.encode(SleepRequest.fromPartial({ millis: 1 })).finish(), Date.now() + days30),
    );
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(signal!.aborted).toBe(false);
    finish!();
    expect((await reply)?.status).toBe(Code.OK);
  });

  it('abandons running handlers on shutdown: the request is left for redelivery and the handler told', async () => {
    let ctx: HandlerContext | undefined;
    const dispatcher = dispatcherWith({
      sleep: (_request: SleepRequest, context: HandlerContext) => {
        ctx = context;
        return new Promise(() => undefined);
      },
    });
    const reply = dispatcher.dispatch(
      SERVICE,
      delivery('Sleep', SleepRequest.encode(SleepRequest.fromPartial({ millis: 5000 })).finish(), Date.now() + 10_000),
    );
    dispatcher.abandonAll('server closing');
    await expect(reply).rejects.toBeInstanceOf(Abandoned);
    expect((ctx!.signal.reason as RpcError).code).toBe(Code.UNAVAILABLE);
  });

  it('turns a handler that throws synchronously into an error reply', async () => {
    const dispatcher = dispatcherWith({
      fail: () => {
        throw new RpcError(Code.NOT_FOUND, 'no such order');
      },
    });
    const reply = await dispatcher.dispatch(SERVICE, delivery('Fail', new Uint8Array(0), Date.now() + 1000));
    expect(reply?.status).toBe(Code.NOT_FOUND);
    expect(reply?.message).toBe('no such order');
  });
});
