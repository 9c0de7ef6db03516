import { connectAmqp, type Transport } from '../core/index.js';
import { createTestVhost } from './support/broker.js';
import { describeEventsConformance } from '../core/testing/events-conformance.js';

describeEventsConformance('amqp', async () => {
  const vhost = await createTestVhost('events');
  const transports: Transport[] = [];
  return {
    async connect() {
      const transport = await connectAmqp({ url: vhost.url });
      transports.push(transport);
      return transport;
    },
    async dispose() {
      for (const transport of transports) await transport.close();
      await vhost.remove();
    },
  };
});
