import { createMemoryTransport } from '../core/index.js';
import { describeRpcConformance } from '../core/testing/rpc-conformance.js';

describeRpcConformance('memory', async () => {
  const transport = createMemoryTransport();
  return { connect: async () => transport, dispose: () => transport.close() };
});
