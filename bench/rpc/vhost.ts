import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throw-away vhost so benchmark queues never meet test queues. */
export interface BenchVhost {
  readonly name: string;
  readonly url: string;
  remove(): Promise<void>;
}

/** Creates `warren-bench-<pid>-<hex>` with rabbitmqctl (which must run where the broker runs). */
export async function createBenchVhost(brokerUrl: string): Promise<BenchVhost> {
  const name = `warren-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  const url = new URL(brokerUrl);
  const user = decodeURIComponent(url.username || 'guest');
  try {
    await run('rabbitmqctl', ['add_vhost', name]);
    await run('rabbitmqctl', ['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  } catch (error) {
    throw new Error(`cannot create the bench vhost with rabbitmqctl (is the broker local and running?): ${(error as Error).message}`, { cause: error });
  }
  url.pathname = `/${encodeURIComponent(name)}`;
  return {
    name,
    url: url.toString(),
    async remove() {
      await run('rabbitmqctl', ['delete_vhost', name]).catch(() => undefined);
    },
  };
}
