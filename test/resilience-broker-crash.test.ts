import { describeBrokerRestart } from './support/broker-restart.js';

// The broker node is killed (SIGKILL: sockets reset, nothing flushed) and started again on the same ports and data,
// under steady load. 8 s of steady load first: RabbitMQ 3.10 syncs its Raft directory lazily, and a node killed
// within a second or two of declaring a quorum queue brought it back leaderless and empty (consuming it hung).
describeBrokerRestart({ mode: 'kill', steadyMs: 8000 });
