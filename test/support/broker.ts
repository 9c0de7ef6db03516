import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DEFAULT_AMQP_URL } from '../../core/index.js';

const run = promisify(execFile);

/** The broker every integration suite talks to (`AMQP_URL`, default the local one). */
export function brokerUrl(): string {
  return process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL;
}

/** A vhost of its own for one test file, removed by `remove()`. */
export interface TestVhost {
  readonly name: string;
  /** `brokerUrl()` pointing at the vhost. */
  readonly url: string;
  remove(): Promise<void>;
}

/**
 * Creates a fresh vhost (rabbitmqctl, which runs where the broker runs) so a
 * suite's queues never meet another suite's.
 */
export function createTestVhost(label: string): Promise<TestVhost> {
  return createVhost(`warren-test-${label}`, brokerUrl());
}

/**
 * Creates `<prefix>-<pid>-<hex>` on the broker behind `baseUrl`, with full
 * permissions for that URL's user; shared by the test suites and the benchmarks.
 */
export async function createVhost(prefix: string, baseUrl: string): Promise<TestVhost> {
  const name = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
  await run('rabbitmqctl', ['add_vhost', name]);
  const user = decodeURIComponent(new URL(baseUrl).username || 'guest');
  await run('rabbitmqctl', ['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  const url = new URL(baseUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return {
    name,
    url: url.toString(),
    async remove() {
      await run('rabbitmqctl', ['delete_vhost', name]).catch(() => undefined);
    },
  };
}

/** Lists queues of a vhost with message and consumer counts. */
export async function listQueues(vhost: string): Promise<{ name: string; messages: number; consumers: number }[]> {
  const { stdout } = await run('rabbitmqctl', [
    'list_queues',
    '-p',
    vhost,
    '--quiet',
    '--no-table-headers',
    'name',
    'messages',
    'consumers',
  ]);
  return stdout
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [name, messages, consumers] = line.trim().split(/\s+/);
      return { name: name!, messages: Number(messages), consumers: Number(consumers) };
    });
}
