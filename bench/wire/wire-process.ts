/**
 * One side of one wire-obligation variant, as its own process:
 * `wire-process.ts <server|client> <variant>` with BENCH_URL. A client
 * checks its first echo, then runs one closed-loop load per `run` command.
 */
import { serveCommands } from '../rpc/child-ipc.js';
import { runLoad } from '../rpc/load-loop.js';
import { ECHO_TEXT, type EchoMessage } from '../peers/message.js';
import { VARIANTS } from './obligations.js';
import { startWireClient, startWireServer } from './wire-peer.js';

const [role, variant] = process.argv.slice(2) as [string, string];
const spec = VARIANTS[variant];
if ((role !== 'server' && role !== 'client') || spec === undefined)
  throw new Error(`usage: wire-process.ts <server|client> <${Object.keys(VARIANTS).join('|')}>`);
const url = process.env['BENCH_URL']!;

if (role === 'server') {
  const server = await startWireServer(url, variant, spec.obligations);
  serveCommands({ stop: () => server.close() });
} else {
  const client = await startWireClient(url, variant, spec.obligations);
  const first = (await client.call()) as EchoMessage;
  if (first.text !== ECHO_TEXT) throw new Error(`${variant} echoed ${JSON.stringify(first)}`);
  serveCommands({
    run: (command) => runLoad(client.call, command.concurrency, command.seconds, command.warmupSeconds),
    stop: () => client.close(),
  });
}
