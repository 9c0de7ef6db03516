import { describeBrokerRestart } from './support/broker-restart.js';

// The broker node is stopped gracefully (SIGTERM: it closes every connection with CONNECTION_FORCED) and started
// again on the same ports and data, under steady load. The crash (SIGKILL) variant is resilience-broker-crash.test.ts.
describeBrokerRestart({ mode: 'graceful' });
