import type { Channel } from 'amqplib';
import { InstanceReport } from '../../gen/warren/mesh/v1/mesh.js';
import type { Logger } from '../observability/logger.js';
import { declareMeshExchange, meshReportProperties } from './mesh-topology.js';
import { MESH_EXCHANGE } from '../protocol/mesh-names.js';

/** Where a reporter sends its reports. */
export interface MeshReportSink {
  /** Sends one report; may drop it (reports are best-effort), rejects when it could not be sent. */
  send(report: InstanceReport, ttlMs: number): Promise<void>;
  /** Releases what the sink holds (its channel). */
  close(): Promise<void>;
}

/** What the AMQP sink needs of a transport: `AmqpTransport.openChannel`. */
export interface ChannelOpener {
  openChannel(signal?: AbortSignal): Promise<Channel>;
}

/** How long the sink waits for a channel (while the broker is away) before that report is given up. */
const OPEN_TIMEOUT_MS = 5_000;

/**
 * Publishes reports to {@link MESH_EXCHANGE} on a plain channel of the
 * transport's connection, opened on first use and again after it closed
 * (connection lost: the next report waits for the new connection, up to
 * 5 s). No confirms: a lost report costs nothing. While the socket is
 * backed up (`publish` returned false, e.g. the broker blocks publishers)
 * reports are dropped until it drains instead of piling up in memory.
 */
export function createAmqpMeshSink(transport: ChannelOpener, logger: Logger): MeshReportSink {
  let channel: Promise<Channel> | undefined;
  let ready: Channel | undefined;
  let backedUp = false;
  let closed = false;

  const open = (): Promise<Channel> => {
    if (channel) return channel;
    const opening = (async () => {
      const opened = await transport.openChannel(AbortSignal.timeout(OPEN_TIMEOUT_MS));
      opened.on('close', () => {
        if (channel === opening) channel = undefined;
        if (ready === opened) ready = undefined;
      });
      opened.on('drain', () => {
        backedUp = false;
      });
      try {
        await declareMeshExchange(opened);
      } catch (error) {
        await opened.close().catch(() => undefined);
        throw error;
      }
      backedUp = false;
      ready = opened;
      return opened;
    })();
    opening.catch((error: unknown) => {
      if (channel === opening) channel = undefined;
      logger.debug({ err: error }, 'mesh reports: no channel');
    });
    channel = opening;
    return opening;
  };

  return {
    async send(report, ttlMs) {
      if (closed) return;
      const opened = await open();
      if (backedUp) return;
      const body = InstanceReport.encode(report).finish();
      backedUp = !opened.publish(
        MESH_EXCHANGE,
        '',
        Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        meshReportProperties(report.app, ttlMs),
      );
    },
    async close() {
      closed = true;
      const pending = channel;
      const open = ready;
      channel = undefined;
      ready = undefined;
      if (open) await open.close().catch(() => undefined);
      // still opening (the broker is away): close it whenever it opens, without waiting for that
      else if (pending)
        void pending.then(
          (late) => late.close().catch(() => undefined),
          () => undefined,
        );
    },
  };
}
