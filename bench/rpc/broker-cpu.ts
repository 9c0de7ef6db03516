import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Linux clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/**
 * Reads the broker's CPU time (user + system, µs) from /proc, so the table
 * can show what each call costs RabbitMQ too. The broker's OS pid comes from
 * `rabbitmqctl eval`; undefined when that or /proc is unavailable. The broker
 * is shared, so other load on it shows up in these numbers.
 */
export async function brokerCpuReader(): Promise<(() => number) | undefined> {
  try {
    const { stdout } = await run('rabbitmqctl', ['eval', 'list_to_integer(os:getpid()).']);
    const pid = Number(stdout.trim().split('\n').at(-1));
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const read = (): number => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / TICKS_PER_SECOND;
    };
    read();
    return read;
  } catch {
    return undefined;
  }
}
