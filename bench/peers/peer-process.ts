/**
 * One side of one system in `bench:peers`, as its own process:
 * `peer-process.ts <server|client> <system>` with BENCH_URL = the system's
 * vhost. A client checks its first echo, then runs one closed-loop load per
 * `run` command; both exit cleanly on `stop` (so `--cpu-prof` files are written).
 */
import { serveCommands } from '../rpc/child-ipc.js';
import { runLoad } from '../rpc/load-loop.js';
import { loadAdapter, SYSTEMS, type SystemName } from './adapter.js';
import { ECHO_TEXT, type EchoMessage } from './message.js';

const [role, system] = process.argv.slice(2) as [string, SystemName];
if ((role !== 'server' && role !== 'client') || !SYSTEMS.includes(system))
  throw new Error(`usage: peer-process.ts <server|client> <${SYSTEMS.join('|')}>`);
const url = process.env['BENCH_URL']!;
const adapter = await loadAdapter(system);

if (role === 'server') {
  const server = await adapter.startServer(url);
  serveCommands({ stop: () => server.close() });
} else {
  const client = await adapter.startClient(url);
  const first = (await client.call()) as EchoMessage;
  if (first.text !== ECHO_TEXT)
    throw new Error(`${system} echoed ${JSON.stringify(first)} instead of the request's text`);
  serveCommands({
    run: (command) => runLoad(client.call, command.concurrency, command.seconds, command.warmupSeconds),
    stop: () => client.close(),
  });
}
