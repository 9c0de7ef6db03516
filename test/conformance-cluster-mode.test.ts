import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { connectAmqp, type Transport } from '../core/index.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { describeRpcConformance } from '../core/testing/rpc-conformance.js';

const run = promisify(execFile);

let vhost: TestVhost | undefined;
let queues: string[][] | undefined;

// The whole RPC conformance suite in cluster mode (queueType 'quorum', the WARREN_QUEUE_TYPE switch), on one node:
// service and dead-letter queues are quorum queues and callers take replies from reply queues of their own.
describeRpcConformance('amqp, cluster mode', async () => {
  vhost = await createTestVhost('conformance-cluster');
  const transports: Transport[] = [];
  return {
    async connect() {
      const transport = await connectAmqp({ url: vhost!.url, queueType: 'quorum' });
      transports.push(transport);
      return transport;
    },
    async dispose() {
      const { stdout } = await run('rabbitmqctl', [
        'list_queues',
        '-p',
        vhost!.name,
        '--quiet',
        '--no-table-headers',
        'name',
        'type',
        'exclusive',
      ]);
      queues = stdout
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/));
      for (const transport of transports) await transport.close();
      await vhost!.remove();
    },
  };
});

describe('cluster mode conformance run', () => {
  it('declared service and dead-letter queues as quorum queues, and exclusive classic reply queues', () => {
    expect(queues).toBeDefined();
    const rpc = queues!.filter(([name]) => name!.startsWith('rpc.'));
    expect(rpc.filter(([name]) => name!.endsWith('.dead')).length).toBeGreaterThanOrEqual(1);
    expect(rpc.length).toBeGreaterThanOrEqual(5);
    expect(rpc.filter(([, type]) => type !== 'quorum')).toEqual([]);
    const replies = queues!.filter(([name]) => name!.startsWith('warren.reply.'));
    expect(replies.length).toBeGreaterThanOrEqual(1);
    expect(replies.filter(([, type, exclusive]) => type !== 'classic' || exclusive !== 'true')).toEqual([]);
  });
});
