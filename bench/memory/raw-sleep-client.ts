import { connect } from 'amqplib';
import { SleepRequest } from '../../gen/warren/test/v1/test.js';

/**
 * The memory bench's reference client: raw amqplib speaking Warren's wire
 * (PROTOCOL.md §2) to the same Warren server, with the least a caller must
 * keep per call: a Map entry of correlation id → resolver. Plain channel,
 * direct reply-to, no confirms, the required properties only.
 */
export async function rawSleepClient(
  url: string,
): Promise<{ sleep(millis: number, timeoutMs: number): Promise<void>; pending(): number; close(): Promise<void> }> {
  const model = await connect(url, {
    noDelay: true,
    clientProperties: { connection_name: `bench-memory-raw-${process.pid}` },
  });
  const channel = await model.createChannel();
  const waiting = new Map<string, () => void>();
  await channel.consume(
    'amq.rabbitmq.reply-to',
    (message) => {
      if (message === null) return;
      const id = message.properties.correlationId as string;
      const resolve = waiting.get(id);
      if (resolve === undefined) return;
      waiting.delete(id);
      resolve();
    },
    { noAck: true },
  );
  let counter = 0;
  return {
    sleep(millis, timeoutMs) {
      return new Promise<void>((resolve) => {
        const id = String(counter++);
        waiting.set(id, resolve);
        const bytes = SleepRequest.encode(SleepRequest.fromPartial({ millis })).finish();
        const deadline = Date.now() + timeoutMs;
        channel.publish(
          'warren.rpc',
          'warren.test.v1.TestService',
          Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          {
            replyTo: 'amq.rabbitmq.reply-to',
            correlationId: id,
            type: 'warren.test.v1.TestService/Sleep',
            expiration: String(timeoutMs),
            headers: { 'warren-deadline': deadline },
          },
        );
      });
    },
    pending: () => waiting.size,
    close: () => model.close(),
  };
}
