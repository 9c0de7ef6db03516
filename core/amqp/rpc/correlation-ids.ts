import { randomFillSync } from 'node:crypto';

/** Random bytes fetched from the CSPRNG at once: one refill serves 512 ids. */
const POOL_BYTES = 4096;
/** Random bits per id: a party that has seen earlier ids cannot guess the next one. */
const RANDOM_BYTES = 8;

/**
 * Correlation ids for requests on one reply channel. Why not a counter: replies
 * are not authenticated (they carry no `user_id` a client could check), so a
 * service that saw one request of a client would otherwise know its reply
 * address and could predict the correlation ids of its later calls, and
 * answer them in the real server's place. Each id is a counter (unique on the
 * channel) plus 64 bits from the CSPRNG, drawn from a pooled buffer so the
 * cost per call stays well under a microsecond.
 */
export class CorrelationIds {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private offset = POOL_BYTES;
  private counter = 0;

  /** The next id: `<counter base36>.<16 hex digits>`. */
  next(): string {
    if (this.offset + RANDOM_BYTES > POOL_BYTES) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const random = this.pool.toString('hex', this.offset, this.offset + RANDOM_BYTES);
    this.offset += RANDOM_BYTES;
    return `${(this.counter++).toString(36)}.${random}`;
  }
}
