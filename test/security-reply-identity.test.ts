import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createClient,
  createServer,
  RpcError,
  type Server,
} from '../core/index.js';
import { serviceQueue, STATUS_HEADER } from '../core/protocol/index.js';
import { EchoResponse, TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { testService } from '../core/testing/test-service.js';

// Servers stamp replies with their broker-validated user_id; a client told which user serves a service
// (`serverUser`) refuses replies from anyone else instead of believing them.
describe('reply identity', () => {
  let vhost: TestVhost;
  let transport: AmqpTransport;
  let server: Server;
  let impostor: ChannelModel;
  const impostorService = { ...TestServiceDefinition, fullName: 'warren.test.v1.ImpostorService' };

  beforeAll(async () => {
    vhost = await createTestVhost('reply-identity');
    transport = await connectAmqp({ url: vhost.url });
    server = createServer({ transport, instance: 'honest' }).add(
      TestServiceDefinition,
      testService('honest').implementation,
    );
    await server.start();
    // a raw peer answering ImpostorService without user_id, as a forged reply would look
    impostor = await amqpConnect(vhost.url);
    const channel = await impostor.createChannel();
    const queue = serviceQueue(impostorService.fullName);
    await channel.assertQueue(queue, { durable: false, autoDelete: true });
    await channel.consume(queue, (message) => {
      if (!message) return;
      const body = Buffer.from(
        EchoResponse.encode(EchoResponse.fromPartial({ text: 'forged', instance: 'impostor' })).finish(),
      );
      channel.publish('', message.properties.replyTo as string, body, {
        correlationId: message.properties.correlationId as string,
        contentType: 'application/x-protobuf',
        headers: { [STATUS_HEADER]: Code.OK },
      });
      channel.ack(message);
    });
  });

  afterAll(async () => {
    await impostor.close();
    await server.close();
    await transport.close();
    await vhost.remove();
  });

  it('believes replies stamped with the expected server user', async () => {
    const client = createClient(TestServiceDefinition, transport, { serverUser: 'guest' });
    expect((await client.echo({ text: 'hi' })).instance).toBe('honest');
  });

  it('refuses replies from another broker user with UNAUTHENTICATED', async () => {
    const client = createClient(TestServiceDefinition, transport, { serverUser: 'payments' });
    const error = await client.echo({ text: 'hi' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(Code.UNAUTHENTICATED);
    expect((error as RpcError).rawMessage).toContain('came from "guest"');
  });

  it('refuses a reply without user_id when the server user is known, and believes it only when it is not', async () => {
    const checking = createClient(impostorService, transport, { serverUser: 'guest', retry: false });
    const error = await checking.echo({ text: 'hi' }).catch((caught: unknown) => caught);
    expect((error as RpcError).code).toBe(Code.UNAUTHENTICATED);
    expect((error as RpcError).rawMessage).toContain('carried no user_id');
    const trusting = createClient(impostorService, transport);
    expect((await trusting.echo({ text: 'hi' })).text).toBe('forged');
  });
});
