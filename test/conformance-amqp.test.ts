import { connectAmqp, type Transport } from '../core/index.js';
import { createTestVhost } from './support/broker.js';
import { describeRpcConformance } from '../core/testing/rpc-conformance.js';

describeRpcConformance('amqp', async () => {
  const vhost = await createTestVhost('conformance');
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
