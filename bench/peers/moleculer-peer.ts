import { ServiceBroker, type BrokerOptions, type Context } from 'moleculer';
import type { PeerAdapter } from './adapter.js';
import { ECHO_TEXT, type EchoMessage } from './message.js';

/**
 * Moleculer 0.14 with its AMQP transporter (amqplib underneath), tuned as its
 * documentation allows: `prefetch` 256, TCP_NODELAY through `socketOptions`,
 * logger, metrics and tracing off. Everything else is Moleculer's default:
 * JSON serializer, its own balancer (requests to the serving node's queue
 * `MOL-bench.REQ.<nodeID>`, acked after the handler), discovery and
 * heartbeats on fanout exchanges.
 */
function brokerOptions(url: string, role: string): BrokerOptions {
  return {
    namespace: 'bench',
    nodeID: `bench-moleculer-${role}-${process.pid}`,
    transporter: { type: 'AMQP', options: { url, prefetch: 256, socketOptions: { noDelay: true } } },
    logger: false,
    metrics: false,
    tracing: false,
  };
}

/** Moleculer server (a ServiceBroker with an `echo` service) and client (a ServiceBroker calling `echo.echo`). */
export const moleculerPeer: PeerAdapter = {
  async startServer(url) {
    const broker = new ServiceBroker(brokerOptions(url, 'server'));
    broker.createService({
      name: 'echo',
      actions: {
        echo(ctx: Context<EchoMessage>): EchoMessage {
          return { text: ctx.params.text };
        },
      },
    });
    await broker.start();
    return { close: () => broker.stop() };
  },
  async startClient(url) {
    const broker = new ServiceBroker(brokerOptions(url, 'client'));
    await broker.start();
    await broker.waitForServices('echo', 30_000);
    const request: EchoMessage = { text: ECHO_TEXT };
    return { call: () => broker.call<EchoMessage, EchoMessage>('echo.echo', request), close: () => broker.stop() };
  },
};
