import { createMemoryTransport } from '../core/index.js';
import { describeEventsConformance } from '../core/testing/events-conformance.js';

describeEventsConformance('memory', async () => {
  const transport = createMemoryTransport();
  return {
    connect: async () => transport,
    dispose: () => transport.close(),
  };
});
