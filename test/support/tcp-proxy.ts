import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the broker, so suites can break the network between
 * a client and RabbitMQ without ever touching the shared broker.
 *
 * ```ts
 * const proxy = createTcpProxy();
 * const port = await proxy.start(5672);   // connect clients to 127.0.0.1:<port>
 * proxy.cut();                            // reset every open connection (new ones still accepted)
 * proxy.stall(); proxy.resume();          // stop / restart moving bytes, connections stay open
 * await proxy.close();
 * ```
 */
export interface TcpProxy {
  /** Listens on a free local port forwarding to `targetHost:targetPort`; resolves the port. */
  start(targetPort: number, targetHost?: string): Promise<number>;
  /** The listening port (after `start`). */
  readonly port: number;
  /** Connections open now. */
  readonly connections: number;
  /** Resets (TCP RST) every open connection on both sides, as a dropped network would. New connections are accepted. */
  cut(): void;
  /** Stops forwarding bytes both ways; connections stay open, so only heartbeats notice. */
  stall(): void;
  /** Forwards again what stalled and anything after. */
  resume(): void;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

/** Creates a stopped proxy; see {@link TcpProxy}. */
export function createTcpProxy(): TcpProxy {
  const pairs = new Set<Pair>();
  let server: Server | undefined;
  let port = 0;
  let stalled = false;

  function forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!stalled) from.resume();
    });
  }

  function open(client: Socket, targetPort: number, targetHost: string): void {
    const upstream = connect({ port: targetPort, host: targetHost, noDelay: true });
    client.setNoDelay(true);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    const end = (): void => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    forward(client, upstream);
    forward(upstream, client);
    if (stalled) {
      client.pause();
      upstream.pause();
    }
  }

  return {
    start(targetPort, targetHost = '127.0.0.1') {
      if (server) return Promise.reject(new Error('proxy already started'));
      const listening = createServer((client) => open(client, targetPort, targetHost));
      server = listening;
      return new Promise<number>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(0, '127.0.0.1', () => {
          port = (listening.address() as AddressInfo).port;
          resolve(port);
        });
      });
    },
    get port() {
      return port;
    },
    get connections() {
      return pairs.size;
    },
    cut() {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair.client.resetAndDestroy();
        pair.upstream.resetAndDestroy();
      }
    },
    stall() {
      stalled = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    resume() {
      stalled = false;
      for (const { client, upstream } of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    async close() {
      this.cut();
      const listening = server;
      server = undefined;
      if (listening) await new Promise<void>((resolve) => listening.close(() => resolve()));
    },
  };
}
