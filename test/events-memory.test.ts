import { createMemoryTransport } from '../core/index.js';
import { describeEventsConformance } from './support/events-conformance.js';

describeEventsConformance('memory', async () => {
  const transport = createMemoryTransport();
  return {
    connect: async () => transport,
    dispose: () => transport.close(),
  };
});
