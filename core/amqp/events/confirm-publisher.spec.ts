import type { ConfirmChannel } from 'amqplib';
import { EventEmitter, getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Code } from '../../protocol/code.js';
import { RpcError } from '../../protocol/rpc-error.js';
import { ConfirmPublisher, wasNotSent } from './confirm-publisher.js';

/** A confirm channel that records publishes and lets the test confirm them, or refuses writes (back-pressure). */
function fakeChannel(options: { full?: boolean } = {}) {
  const emitter = new EventEmitter();
  const confirms: ((error: unknown) => void)[] = [];
  const channel = Object.assign(emitter, {
    publish: (_exchange: string, _key: string, _body: Buffer, _options: unknown, confirm: (error: unknown) => void) => {
      confirms.push(confirm);
      return !options.full;
    },
    close: async () => undefined,
  });
  return { channel: channel as unknown as ConfirmChannel, confirms, emitter };
}

async function failure(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
  }
  throw new Error('expected an RpcError');
}

describe('ConfirmPublisher with a publish timeout', () => {
  it('resolves on the confirm and leaves no abort listener', async () => {
    const { channel, confirms } = fakeChannel();
    const timeout = new AbortController();
    const publishing = new ConfirmPublisher(channel).publish(
      'x',
      'k',
      new Uint8Array([1]),
      { messageId: 'a' },
      'event A',
      timeout.signal,
    );
    confirms[0]!(null);
    await publishing;
    expect(getEventListeners(timeout.signal, 'abort')).toHaveLength(0);
  });

  it('fails DEADLINE_EXCEEDED when the confirm does not come in time: it was sent, it may have been routed', async () => {
    const { channel, confirms } = fakeChannel();
    const publisher = new ConfirmPublisher(channel);
    const timeout = new AbortController();
    const publishing = publisher.publish('x', 'k', new Uint8Array([1]), { messageId: 'b' }, 'event B', timeout.signal);
    timeout.abort();
    const error = await failure(publishing);
    expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(wasNotSent(error)).toBe(false);
    expect(publisher.pendingCount).toBe(1); // still tracked until the broker answers
    confirms[0]!(null);
    await new Promise((resolve) => setImmediate(resolve));
    expect(publisher.pendingCount).toBe(0);
    expect(getEventListeners(timeout.signal, 'abort')).toHaveLength(0);
  });

  it('fails UNAVAILABLE, not sent, when back-pressure holds it past the timeout', async () => {
    const { channel } = fakeChannel({ full: true });
    const publisher = new ConfirmPublisher(channel);
    void publisher.publish('x', 'k', new Uint8Array([1]), { messageId: 'c1' }, 'event C1').catch(() => undefined); // fills the channel
    const timeout = new AbortController();
    const waiting = publisher.publish('x', 'k', new Uint8Array([1]), { messageId: 'c2' }, 'event C2', timeout.signal);
    timeout.abort();
    const error = await failure(waiting);
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(wasNotSent(error)).toBe(true);
  });

  it('says "not sent" for a publish on a channel that already closed', async () => {
    const { channel, emitter } = fakeChannel();
    const publisher = new ConfirmPublisher(channel);
    emitter.emit('close');
    const error = await failure(publisher.publish('x', 'k', new Uint8Array([1]), { messageId: 'd' }, 'event D'));
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(wasNotSent(error)).toBe(true);
  });
});
