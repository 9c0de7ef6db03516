/**
 * Where mesh reports travel on the broker: an exchange of their own, so
 * they never reach event subscribers (a `#` binding on warren.events) and
 * never sit in a durable queue.
 *
 * ```text
 *  every process with a mesh reporter           broker                            mesh viewers (gateways)
 *  ──────────────────────────────────           ──────                            ───────────────────────
 *  publish every 2 s on a plain channel
 *    type warren.mesh.v1.InstanceReport,
 *    transient, expiration = 3 × interval  ──▶  exchange "warren.mesh" (fanout, durable)
 *                                                 │ binding ""              │ binding ""
 *                                                 ▼                         ▼
 *                                  queue "amq.gen-…" (server-named,   queue "amq.gen-…" (another
 *                                   exclusive, auto-delete,            viewer: each gets every
 *                                   x-max-length 1000)                 report)
 *                                                 │ consume, no-ack
 *                                                 ▼
 *                                          the viewer's live model
 * ```
 *
 * No viewer bound: the broker drops the reports (fanout with no queue). A
 * viewer that falls behind loses the oldest (max length) and expired ones;
 * a report is only worth its few seconds.
 */

/** The fanout exchange mesh reports are published to. */
export const MESH_EXCHANGE = 'warren.mesh';
/** AMQP `type` of a report: the proto message's full name. */
export const MESH_REPORT_TYPE = 'warren.mesh.v1.InstanceReport';
/** Most reports a viewer's queue holds before the oldest are dropped. */
export const MESH_QUEUE_MAX_LENGTH = 1000;
