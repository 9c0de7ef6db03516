import type { BenchCall } from '../rpc/load-loop.js';

/** A running benchmark server. */
export interface PeerServer {
  close(): Promise<void>;
}

/** A running benchmark client: `call` sends {@link ECHO_TEXT} and resolves the decoded echo. */
export interface PeerClient {
  readonly call: BenchCall;
  close(): Promise<void>;
}

/** One system's client and server, each started in its own process against `url` (its own vhost). */
export interface PeerAdapter {
  startServer(url: string): Promise<PeerServer>;
  startClient(url: string): Promise<PeerClient>;
}

/** The systems compared by `bench:peers`; raw amqplib is the baseline. */
export const SYSTEMS = ['raw', 'warren', 'nestjs', 'moleculer'] as const;
/** One of {@link SYSTEMS}. */
export type SystemName = (typeof SYSTEMS)[number];

/** Loads one system's adapter only, so no process loads another framework's code. */
export async function loadAdapter(system: SystemName): Promise<PeerAdapter> {
  switch (system) {
    case 'raw':
      return (await import('./raw-peer.js')).rawPeer;
    case 'warren':
      return (await import('./warren-peer.js')).warrenPeer;
    case 'nestjs':
      return (await import('./nestjs-peer.js')).nestPeer;
    case 'moleculer':
      return (await import('./moleculer-peer.js')).moleculerPeer;
  }
}
