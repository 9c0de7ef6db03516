import type { Channel } from 'amqplib';

/** The part of a socket write batching needs (net.Socket and tls.TLSSocket have it). */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Returns a function to call right after each publish or ack on `channel`:
 * it corks the connection's socket until the end of the current event-loop
 * turn, so every frame amqplib writes in that turn (a reply and its ack; the
 * requests of many concurrent calls) leaves in one `writev` instead of one
 * syscall and one TCP segment per frame. Nothing is delayed: amqplib itself
 * writes frames from a `setImmediate`, and the socket is uncorked by a
 * `setImmediate` queued after that one (the `nextTick` makes sure of the
 * order). Returns a no-op when the channel exposes no corkable socket.
 */
export function batchWrites(channel: Channel): () => void {
  const socket = (channel as unknown as { connection?: { stream?: Partial<Corkable> } }).connection?.stream;
  if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return () => undefined;
  const corkable = socket as Corkable;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    corkable.uncork();
  };
  // amqplib's mux queues its flush in a nextTick after the write; queueing
  // ours in a later nextTick puts our uncork after its flush.
  const uncorkAfterFlush = (): void => {
    setImmediate(uncork);
  };
  return () => {
    if (corked) return;
    corked = true;
    corkable.cork();
    process.nextTick(uncorkAfterFlush);
  };
}
