import type { Channel, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AckBatcher, batchWrites } from './write-batching.js';

function delivery(tag: number): Message {
  return { fields: { deliveryTag: tag }, properties: {}, content: Buffer.alloc(0) } as unknown as Message;
}

function fakeChannel(): { channel: Channel; acks: [number, boolean][] } {
  const acks: [number, boolean][] = [];
  const channel = {
    ack: (message: Message, allUpTo?: boolean) => acks.push([message.fields.deliveryTag, allUpTo === true]),
  } as unknown as Channel;
  return { channel, acks };
}

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('AckBatcher', () => {
  it('acks a run of answered deliveries with one multiple ack at the end of the tick', async () => {
    const { channel, acks } = fakeChannel();
    const batcher = new AckBatcher(
      channel,
      () => true,
      () => undefined,
    );
    const messages = [1, 2, 3].map(delivery);
    for (const message of messages) batcher.track(message);
    for (const message of messages) batcher.ack(message);
    expect(acks).toEqual([]);
    await nextTick();
    expect(acks).toEqual([[3, true]]);
  });

  it('never covers a delivery still running: answers past it are acked one by one', async () => {
    const { channel, acks } = fakeChannel();
    const batcher = new AckBatcher(
      channel,
      () => true,
      () => undefined,
    );
    const [first, second, third] = [1, 2, 3].map(delivery);
    for (const message of [first!, second!, third!]) batcher.track(message);
    batcher.ack(second!);
    batcher.ack(third!);
    await nextTick();
    expect(acks).toEqual([
      [2, false],
      [3, false],
    ]);
    batcher.ack(first!);
    await nextTick();
    // 2 and 3 were acked already: the multiple ack ends at 1, the last one not yet acked
    expect(acks).toEqual([
      [2, false],
      [3, false],
      [1, true],
    ]);
  });

  it('leaves an abandoned delivery unacked for good while later ones are acked', async () => {
    const { channel, acks } = fakeChannel();
    const batcher = new AckBatcher(
      channel,
      () => true,
      () => undefined,
    );
    const [abandoned, later, last] = [7, 8, 9].map(delivery);
    for (const message of [abandoned!, later!, last!]) batcher.track(message);
    batcher.ack(later!);
    await nextTick();
    batcher.ack(last!);
    batcher.flush();
    expect(acks).toEqual([
      [8, false],
      [9, false],
    ]);
  });

  it('sends nothing once the channel is closed, and flush() sends what is owed at once', async () => {
    const { channel, acks } = fakeChannel();
    let open = true;
    const batcher = new AckBatcher(
      channel,
      () => open,
      () => undefined,
    );
    const [first, second] = [1, 2].map(delivery);
    batcher.track(first!);
    batcher.track(second!);
    batcher.ack(first!);
    batcher.flush();
    expect(acks).toEqual([[1, true]]);
    batcher.ack(second!);
    open = false;
    await nextTick();
    expect(acks).toEqual([[1, true]]);
  });

  it('reports an ack the channel refuses instead of throwing', async () => {
    const errors: unknown[] = [];
    const channel = {
      ack: () => {
        throw new Error('Channel closed');
      },
    } as unknown as Channel;
    const batcher = new AckBatcher(
      channel,
      () => true,
      (error) => errors.push(error),
    );
    const message = delivery(1);
    batcher.track(message);
    batcher.ack(message);
    await nextTick();
    expect(errors).toHaveLength(1);
  });
});

describe('batchWrites', () => {
  it('corks the socket once per tick and uncorks it after amqplib has flushed its frames', async () => {
    const calls: string[] = [];
    const stream = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
    const wrote = batchWrites({ connection: { stream } } as unknown as Channel);
    // a publish as amqplib does it: the channel's stream emits 'readable' in a nextTick,
    // and the connection's mux writes every pending frame from one setImmediate
    let frames = 0;
    let scheduled = false;
    const publish = (): void => {
      frames++;
      if (scheduled) return;
      scheduled = true;
      process.nextTick(() =>
        setImmediate(() => {
          scheduled = false;
          calls.push(`amqplib writes ${frames}`);
          frames = 0;
        }),
      );
    };
    publish();
    wrote();
    publish();
    wrote();
    expect(calls).toEqual(['cork']);
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    expect(calls).toEqual(['cork', 'amqplib writes 2', 'uncork']);
    publish();
    wrote();
    expect(calls).toEqual(['cork', 'amqplib writes 2', 'uncork', 'cork']);
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    expect(calls.slice(-2)).toEqual(['amqplib writes 1', 'uncork']);
  });

  it('does nothing for a channel without a corkable socket', () => {
    expect(() => batchWrites({} as unknown as Channel)()).not.toThrow();
  });
});
