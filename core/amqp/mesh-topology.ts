/** Declarations of the mesh topology drawn in core/protocol/mesh-names.ts. */
import type { Channel, Options } from 'amqplib';
import { MESH_EXCHANGE, MESH_QUEUE_MAX_LENGTH, MESH_REPORT_TYPE } from '../protocol/mesh-names.js';

/** Declares {@link MESH_EXCHANGE} (fanout, durable; idempotent, the same arguments everywhere). */
export async function declareMeshExchange(channel: Channel): Promise<void> {
  await channel.assertExchange(MESH_EXCHANGE, 'fanout', { durable: true });
}

/**
 * Declares a viewer's queue (server-named, exclusive, auto-delete, bounded)
 * bound to {@link MESH_EXCHANGE}, and returns its name.
 */
export async function declareMeshViewerQueue(channel: Channel): Promise<string> {
  await declareMeshExchange(channel);
  const { queue } = await channel.assertQueue('', {
    exclusive: true,
    autoDelete: true,
    durable: false,
    arguments: { 'x-max-length': MESH_QUEUE_MAX_LENGTH },
  });
  await channel.bindQueue(queue, MESH_EXCHANGE, '');
  return queue;
}

/** AMQP properties of a report from `app`, expiring after `ttlMs`. */
export function meshReportProperties(app: string, ttlMs: number): Options.Publish {
  return {
    type: MESH_REPORT_TYPE,
    contentType: 'application/x-protobuf',
    appId: app,
    deliveryMode: 1,
    expiration: String(Math.max(1, Math.round(ttlMs))),
    timestamp: Math.floor(Date.now() / 1000),
  };
}
