import { existsSync } from 'node:fs';
import { connect } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, connectAmqp, createClient, createServer } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { brokerUrl } from './support/broker.js';
import { testService } from '../core/testing/test-service.js';
import { startThrowawayBroker, type ThrowawayBroker } from './support/throwaway-broker.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function echoThrough(url: string, text: string): Promise<string> {
  const transport: AmqpTransport = await connectAmqp({ url });
  try {
    const server = createServer({ transport, instance: 'throwaway' }).add(
      TestServiceDefinition,
      testService('throwaway').implementation,
    );
    await server.start();
    const reply = await createClient(TestServiceDefinition, transport).echo({ text }, { timeoutMs: 10_000 });
    await server.close();
    return reply.text;
  } finally {
    await transport.close();
  }
}

describe('throwaway broker', () => {
  let broker: ThrowawayBroker | undefined;

  afterAll(async () => {
    await broker?.remove();
  });

  it('starts a node of its own, restarts it on the same ports and data, and leaves nothing behind', async () => {
    broker = await startThrowawayBroker({ label: 'selftest' });
    expect(broker.nodeName).toMatch(/^warren-test-selftest-[0-9a-f]{6}@localhost$/);
    expect(broker.ports.amqp).not.toBe(5672);
    const firstPid = broker.pid!;
    expect(alive(firstPid)).toBe(true);
    expect(await echoThrough(broker.url, 'first')).toBe('first');
    // rabbitmqctl reaches this node only; a durable queue made now survives the restarts below
    expect(await broker.rabbitmqctl('status')).toContain(broker.nodeName);
    const setup = await connect(broker.url);
    const channel = await setup.createChannel();
    await channel.assertQueue('survivor', { durable: true });
    await setup.close();

    await broker.restart('graceful');
    expect(broker.pid).not.toBe(firstPid);
    expect(broker.processes()).not.toContain(firstPid);
    expect(await echoThrough(broker.url, 'after graceful restart')).toBe('after graceful restart');

    await broker.restart('kill');
    expect(await echoThrough(broker.url, 'after kill')).toBe('after kill');

    const vmPid = broker.pid;
    await broker.restart('app');
    expect(broker.pid).toBe(vmPid); // stop_app keeps the VM
    expect(await echoThrough(broker.url, 'after app restart')).toBe('after app restart');
    expect(await broker.rabbitmqctl('list_queues', '--quiet', '--no-table-headers', 'name', 'durable')).toMatch(
      /survivor\s+true/,
    );

    const { dir, pids } = broker;
    console.info(
      `throwaway broker: starts took ${broker.startTimes.join(', ')} ms (first boot, graceful, kill, app); pids ${pids.join(', ')}`,
    );
    await broker.remove();
    await broker.remove(); // idempotent
    // no process of this broker is left: none with the PIDs it started, none carrying its marker
    expect(pids.filter(alive).filter((pid) => broker!.processes().includes(pid))).toEqual([]);
    expect(broker.processes()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    // the shared broker was never touched
    const shared = await connect(brokerUrl());
    await shared.close();
  }, 240_000);
});
