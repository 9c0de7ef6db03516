import 'reflect-metadata';
import { Controller, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Transport, type RmqOptions } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import type { PeerAdapter } from './adapter.js';
import { ECHO_TEXT, type EchoMessage } from './message.js';

const QUEUE = 'bench.peers.nestjs.echo';
const PATTERN = 'echo';

/**
 * NestJS `Transport.RMQ` (@nestjs/microservices over amqp-connection-manager
 * and amqplib), tuned as its documentation allows: `prefetchCount` 256,
 * `persistent` false, `noAck` true (the documented default; `false` would
 * make every handler ack by hand through the RmqContext), TCP_NODELAY through
 * amqp-connection-manager's `connectionOptions`. Everything else is Nest's
 * default: JSON packets `{ pattern, data, id }`, direct reply-to, requests
 * sent to the queue through the default exchange on a confirm channel
 * (amqp-connection-manager's default).
 */
function rmqOptions(url: string): RmqOptions {
  return {
    transport: Transport.RMQ,
    options: {
      urls: [url],
      queue: QUEUE,
      queueOptions: { durable: true },
      prefetchCount: 256,
      noAck: true,
      persistent: false,
      socketOptions: { connectionOptions: { noDelay: true } },
    },
  };
}

/** The controller a Nest user writes, decorated by hand (tsx compiles no legacy decorators). */
class EchoController {
  echo(data: EchoMessage): EchoMessage {
    return { text: data.text };
  }
}
Controller()(EchoController);
MessagePattern(PATTERN)(
  EchoController.prototype,
  'echo',
  Object.getOwnPropertyDescriptor(EchoController.prototype, 'echo')!,
);
class EchoModule {}
Module({ controllers: [EchoController] })(EchoModule);

/** NestJS server (a microservice app with one @MessagePattern controller) and client (ClientProxy.send). */
export const nestPeer: PeerAdapter = {
  async startServer(url) {
    Logger.overrideLogger(false);
    const app = await NestFactory.createMicroservice(EchoModule, { ...rmqOptions(url), logger: false });
    await app.listen();
    return { close: () => app.close() };
  },
  async startClient(url) {
    Logger.overrideLogger(false);
    const client = ClientProxyFactory.create(rmqOptions(url));
    await client.connect();
    const request: EchoMessage = { text: ECHO_TEXT };
    return {
      call: () => firstValueFrom(client.send<EchoMessage, EchoMessage>(PATTERN, request)),
      close: async () => client.close(),
    };
  },
};
