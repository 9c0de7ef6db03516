/**
 * A benchmark server as its own process: `raw` or `warren` (argv[2]).
 * Env BENCH_URL (broker URL with the bench vhost). Reports `ready` over IPC,
 * answers `usage`, exits cleanly on `stop`.
 */
import type { Implementation } from './protocol.js';
import { startRawServer } from './raw-amqp.js';
import { serveCommands } from './child-ipc.js';
import { startWarrenServer } from './warren-rpc.js';

const implementation = process.argv[2] as Implementation;
const url = process.env['BENCH_URL']!;
const instance = `bench-${implementation}-server-${process.pid}`;

if (implementation === 'raw') {
  const model = await startRawServer(url, instance);
  serveCommands({ stop: () => model.close() });
} else {
  const { server, transport } = await startWarrenServer(url, instance);
  serveCommands({
    stop: async () => {
      await server.close();
      await transport.close();
    },
  });
}
