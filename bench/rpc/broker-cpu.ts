import { DEFAULT_AMQP_URL } from '../../core/index.js';
import { brokerPort, cpuMicrosOf, listenerPid } from '../harness/proc-cpu.js';

/**
 * Reads the broker's CPU time (user + system, µs) from /proc, so the table
 * can show what each call costs RabbitMQ too. The broker is the process
 * listening on the URL's port (5672 by default), found through
 * /proc/net/tcp and the socket links in /proc/<pid>/fd (not by name);
 * undefined when it cannot be found (broker on another host, or its fds not
 * readable). The broker is shared, so other load on it shows up in these numbers.
 */
export async function brokerCpuReader(
  url: string = process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL,
): Promise<(() => number) | undefined> {
  const pid = listenerPid(brokerPort(url));
  if (pid === undefined) return undefined;
  const read = (): number => cpuMicrosOf(pid);
  return Number.isNaN(read()) ? undefined : read;
}
