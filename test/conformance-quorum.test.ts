import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { connectAmqp, type Transport } from '../core/index.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { describeRpcConformance } from '../core/testing/rpc-conformance.js';

const run = promisify(execFile);

/** A transport whose every served service queue is a quorum queue, whatever the server asked for. */
function quorumServing(transport: Transport): Transport {
  return Object.assign(Object.create(transport) as Transport, {
    serve: (service: string, options: Parameters<Transport['serve']>[1], handler: Parameters<Transport['serve']>[2]) =>
      transport.serve(service, { ...options, queueType: 'quorum' }, handler),
  });
}

let vhost: TestVhost | undefined;
let queueTypes: Map<string, string> | undefined;

// The whole RPC conformance suite, with every service queue declared as a quorum queue (single node).
describeRpcConformance('amqp, quorum service queues', async () => {
  vhost = await createTestVhost('conformance-quorum');
  const transports: Transport[] = [];
  return {
    async connect() {
      const transport = await connectAmqp({ url: vhost!.url });
      transports.push(transport);
      return quorumServing(transport);
    },
    async dispose() {
      // read the queue types before the vhost goes
      const { stdout } = await run('rabbitmqctl', [
        'list_queues',
        '-p',
        vhost!.name,
        '--quiet',
        '--no-table-headers',
        'name',
        'type',
      ]);
      queueTypes = new Map(
        stdout
          .trim()
          .split('\n')
          .map((line) => line.trim().split(/\s+/) as [string, string]),
      );
      for (const transport of transports) await transport.close();
      await vhost!.remove();
    },
  };
});

describe('quorum conformance run', () => {
  it('declared every service queue as a quorum queue', () => {
    expect(queueTypes).toBeDefined();
    const services = [...queueTypes!].filter(([name]) => name.startsWith('rpc.') && !name.endsWith('.dead'));
    expect(services.length).toBeGreaterThanOrEqual(5);
    expect(services.filter(([, type]) => type !== 'quorum')).toEqual([]);
  });
});
