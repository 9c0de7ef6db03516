import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createClient,
  createServer,
  RpcError,
  serverUsersFromEnv,
} from '../core/index.js';
import { serviceQueue } from '../core/protocol/index.js';
import { EchoResponse, TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { testService } from '../core/testing/test-service.js';

const SERVICE = 'warren.test.v1.TestService';
const UNSERVED = { ...TestServiceDefinition, fullName: 'warren.test.v1.UnservedService' };

/** A rogue connection's consumer that answers every request it sees with a forged OK reply, at once. */
async function forger(model: ChannelModel, queue: string, seen: string[]): Promise<void> {
  const channel = await model.createChannel();
  await channel.consume(queue, (message) => {
    if (!message) return;
    seen.push(String(message.properties.correlationId));
    const body = Buffer.from(
      EchoResponse.encode(EchoResponse.fromPartial({ text: 'forged', instance: 'rogue' })).finish(),
    );
    channel.publish('', String(message.properties.replyTo), body, {
      correlationId: message.properties.correlationId as string,
      contentType: 'application/x-protobuf',
      headers: { 'warren-status': 0 },
    });
    channel.ack(message);
  });
}

// The forged-reply attack of issue 13, on the wire: a party on the broker that binds its own queue to see another
// service's requests and answers first. Protocol 2 publishes requests to the service queue through the default
// exchange (no binding can copy them), and clients check every reply's broker-validated user_id against the
// service's expected user, derived from the permissions config.
describe('forged replies', () => {
  let vhost: TestVhost;
  let transport: AmqpTransport;
  let rogue: ChannelModel;
  let dir: string;

  beforeAll(async () => {
    vhost = await createTestVhost('forged-reply');
    transport = await connectAmqp({ url: vhost.url });
    await createServer({ transport, instance: 'honest' })
      .add(TestServiceDefinition, testService('honest').implementation)
      .start();
    rogue = await connect(vhost.url);
    dir = mkdtempSync(join(tmpdir(), 'warren-forged-'));
  });

  afterAll(async () => {
    await rogue?.close();
    await transport?.close();
    await vhost?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a queue bound to the request exchange with the service key sees no request and answers none', async () => {
    const channel = await rogue.createChannel();
    await channel.assertExchange('warren.rpc', 'direct', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, 'warren.rpc', SERVICE);
    const seen: string[] = [];
    await forger(rogue, queue, seen);
    const client = createClient(TestServiceDefinition, transport);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => client.echo({ text: `call ${n}` })));
    expect(seen).toEqual([]);
    expect(answers.map((answer) => answer.instance)).toEqual(Array(20).fill('honest'));
  });

  it('refuses a reply not sent by the broker user the permissions config says serves the service', async () => {
    // whoever reads the queue (here guest, in a vhost where it may) is not the user the config names
    const config = join(dir, 'permissions.json');
    writeFileSync(
      config,
      JSON.stringify({ users: { tester: { serves: [UNSERVED.fullName] }, caller: { calls: [UNSERVED.fullName] } } }),
    );
    const channel = await rogue.createChannel();
    await channel.assertQueue(serviceQueue(UNSERVED.fullName), { durable: false, autoDelete: true });
    await forger(rogue, serviceQueue(UNSERVED.fullName), []);
    const checking = await connectAmqp({
      url: vhost.url,
      serverUsers: serverUsersFromEnv({ WARREN_PERMISSIONS_FILE: config, WARREN_USER_PREFIX: 'shop-' }),
    });
    try {
      const error = await createClient(UNSERVED, checking, { retry: false })
        .echo({ text: 'hi' })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe(Code.UNAUTHENTICATED);
      expect((error as RpcError).rawMessage).toContain('did not come from broker user "shop-tester"');
      // the same reply is believed without a config: that is the shared-user development mode
      expect((await createClient(UNSERVED, transport).echo({ text: 'hi' })).text).toBe('forged');
    } finally {
      await checking.close();
    }
  });
});
