import type { Command, Report, RunResult } from './protocol.js';

/** What a child does for each command; `run` only makes sense in clients. */
export interface CommandHandlers {
  run?: (command: Extract<Command, { type: 'run' }>) => Promise<RunResult>;
  stop: () => Promise<void>;
}

function send(report: Report): void {
  process.send!(report);
}

/**
 * Wires a child process to the orchestrator: announces `ready`, answers
 * commands in order, and exits 0 after `stop` (or 1 if stopping failed), so
 * `--cpu-prof` profiles are flushed. Exits too if the orchestrator goes away.
 */
export function serveCommands(handlers: CommandHandlers): void {
  if (!process.send) throw new Error('bench children must be started with an IPC channel');
  let queue = Promise.resolve();
  process.on('message', (command: Command) => {
    queue = queue
      .then(async () => {
        if (command.type === 'run') {
          if (!handlers.run) throw new Error('this child runs no load');
          send({ type: 'result', result: await handlers.run(command) });
        } else if (command.type === 'usage') {
          const { user, system } = process.cpuUsage();
          send({
            type: 'usage',
            usage: {
              rssBytes: process.memoryUsage.rss(),
              maxRssBytes: process.resourceUsage().maxRSS * 1024,
              cpuMicros: user + system,
            },
          });
        } else {
          await handlers.stop();
          process.exit(0);
        }
      })
      .catch((error: unknown) => {
        process.stderr.write(`bench child ${process.pid} failed: ${String((error as Error).stack ?? error)}\n`);
        process.exit(1);
      });
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}
