/**
 * A benchmark client as its own process: `raw` or `warren` (argv[2]).
 * Env BENCH_URL. Runs one closed-loop load per `run` command and reports its
 * result (with its RSS); exits cleanly on `stop`.
 */
import { runLoad, type BenchCall } from './load-loop.js';
import type { Implementation } from './protocol.js';
import { startRawClient } from './raw-amqp.js';
import { serveCommands } from './child-ipc.js';
import { startWarrenClient } from './warren-rpc.js';

const implementation = process.argv[2] as Implementation;
const url = process.env['BENCH_URL']!;
const name = `bench-${implementation}-client-${process.pid}`;

let call: BenchCall;
let close: () => Promise<void>;
if (implementation === 'raw') {
  const raw = await startRawClient(url, name);
  call = raw.call;
  close = () => raw.model.close();
} else {
  const warren = await startWarrenClient(url, name);
  call = warren.call;
  close = () => warren.transport.close();
}
serveCommands({
  run: (command) => runLoad(call, command.concurrency, command.seconds, command.warmupSeconds),
  stop: close,
});
