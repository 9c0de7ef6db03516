/**
 * One request and the reply it gets, as every caller in Warren makes it — the typed client, the gateway and the CLI's
 * replay — so each gets the same reply checks and the hot path has one place to be made fast. Encoding and decoding
 * stay with the caller (generated codec, reflected codec); so do retries, interceptors and deadlines.
 */
import { Code } from '../protocol/code.js';
import type { ContentType } from '../protocol/content-type.js';
import type { MethodInfo } from '../protocol/definition.js';
import type { Metadata } from '../protocol/metadata.js';
import { replyToError } from '../protocol/reply-error.js';
import { RpcError } from '../protocol/rpc-error.js';
import type { WireReply, WireRequest } from '../protocol/wire-message.js';
import type { Transport } from '../transport.js';

/** What the caller knows about who may answer. */
export interface ReplyCheck {
  /**
   * The broker user the service's servers connect as. A reply whose broker-validated `user_id` differs is refused
   * with UNAUTHENTICATED, never decoded. Default: replies are not checked.
   */
  readonly serverUser?: string | undefined;
}

/** The wire request of one call of `method`. */
export function unaryRequest(
  method: MethodInfo,
  contentType: ContentType,
  body: Uint8Array,
  metadata: Metadata,
  deadline: number,
  messageId: string,
): WireRequest {
  return { service: method.service, method: method.path, contentType, body, metadata, deadline, messageId };
}

/**
 * Sends `request` and resolves the reply once it is believed (any status). Rejects with the transport's error
 * (UNAVAILABLE, RESOURCE_EXHAUSTED, `signal.reason`) or UNAUTHENTICATED for a reply from the wrong user.
 */
export async function sendUnary(
  transport: Transport,
  request: WireRequest,
  signal: AbortSignal,
  check?: ReplyCheck,
): Promise<WireReply> {
  const reply = await transport.request(request, signal);
  const expected = check?.serverUser;
  if (expected !== undefined && reply.userId !== expected) throw forgedReply(request.method, expected, reply.userId);
  return reply;
}

/** Returns an OK reply; throws a non-OK reply's error (code, message, details and metadata from its google.rpc.Status). */
export function okReply(reply: WireReply): WireReply {
  if (reply.status !== Code.OK) throw replyToError(reply);
  return reply;
}

/**
 * A DEADLINE_EXCEEDED while no instance consumes the service's queue says so: the usual cause (nothing deployed, all
 * instances down) named instead of a bare timeout. One look at the queue, on this failure path only.
 */
export async function explainDeadline(transport: Transport, service: string, error: RpcError): Promise<RpcError> {
  if (error.code !== Code.DEADLINE_EXCEEDED || transport.consumers === undefined) return error;
  if ((await transport.consumers(service)) !== 0) return error;
  return new RpcError(
    Code.DEADLINE_EXCEEDED,
    `${error.rawMessage}: no instance of ${service} is serving (its queue has no consumer; the request waits there and an instance that starts after its deadline drops it)`,
    { cause: error, metadata: error.metadata },
  );
}

/** A reply not sent by the expected server user: refused, never decoded. */
function forgedReply(path: string, expected: string, actual: string | undefined): RpcError {
  const from = actual === undefined ? 'it carried no user_id' : `it came from "${actual}"`;
  return new RpcError(
    Code.UNAUTHENTICATED,
    `the reply to ${path} did not come from broker user "${expected}" (${from}); it was refused`,
  );
}
