import { describe, expect, it } from 'vitest';
import { createClient, createEventBus, createMemoryTransport, createServer } from '../core/index.js';
import { OrderCreated } from '../gen/warren/test/v1/test_events.js';
import { TestServiceDefinition, type EchoResponse } from '../gen/warren/test/v1/test.js';
import { testService } from '../core/testing/test-service.js';

// An event handler that calls a service passes the event's metadata (traceparent) on, as an RPC handler does.
describe('RPC calls made from an event handler', () => {
  it('carry the event metadata unless the call starts a fresh tree', async () => {
    const transport = createMemoryTransport();
    await createServer({ transport }).add(TestServiceDefinition, testService('ctx').implementation).start();
    const client = createClient(TestServiceDefinition, transport);
    const bus = createEventBus({ transport, service: 'orders' });
    const seen: EchoResponse[] = [];
    let done: () => void = () => undefined;
    const handled = new Promise<void>((resolve) => (done = resolve));
    await bus.subscribe(
      OrderCreated,
      async () => {
        seen.push(await client.echo({ text: 'inherited' }));
        seen.push(await client.echo({ text: 'fresh' }, { parent: null }));
        done();
      },
      { group: 'ctx-test' },
    );
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await bus.publish(OrderCreated, {}, { metadata: { traceparent } });
    await handled;
    expect(seen[0]!.metadata['traceparent']).toBe(traceparent);
    expect(seen[1]!.metadata['traceparent']).toBeUndefined();
    await transport.close();
  });
});
