import type { Code } from './code.js';
import type { ContentType } from './content-type.js';
import type { Metadata } from './metadata.js';

/** A request as it travels: bytes plus the protocol's properties. */
export interface WireRequest {
  /** `package.Service`: picks the service queue. */
  readonly service: string;
  /** `package.Service/Method`. */
  readonly method: string;
  readonly contentType: ContentType;
  readonly body: Uint8Array;
  readonly metadata: Metadata;
  /** Absolute deadline, milliseconds since the Unix epoch. */
  readonly deadline: number;
  /** Identifies the logical call; stays the same across retries. */
  readonly messageId: string;
}

/** A reply as it travels. A non-OK status carries a google.rpc.Status body. */
export interface WireReply {
  readonly status: Code;
  /** Human-readable status message (empty on success). */
  readonly message: string;
  readonly contentType: ContentType;
  readonly body: Uint8Array;
  readonly metadata: Metadata;
  /**
   * On a received reply: the broker-validated user of the server that sent it
   * (AMQP `user_id`), when the server stamped one. Servers leave it unset.
   */
  readonly userId?: string | undefined;
}
