import { Code, codeName, parseCode } from './code.js';
import { PROTOBUF } from './content-type.js';
import { RpcError } from './rpc-error.js';
import { decodeStatus, encodeStatus, statusFromJson, statusToJson, type WireStatus } from './status-codec.js';
import type { WireReply } from './wire-message.js';
import type { ContentType } from './content-type.js';
import { boundStatusMessage } from './wire-bounds.js';

/**
 * Turns an error reply into the `RpcError` the caller sees. The status body
 * is authoritative; the `warren-status` / `warren-message` headers are the
 * fallback when the body is empty or unreadable.
 */
export function replyToError(reply: WireReply): RpcError {
  let status: WireStatus = { code: reply.status, message: reply.message, details: [] };
  if (reply.body.length > 0) {
    try {
      status =
        reply.contentType === PROTOBUF
          ? decodeStatus(reply.body)
          : statusFromJson(JSON.parse(Buffer.from(reply.body).toString('utf8')));
    } catch {
      // keep the header form
    }
  }
  const code = status.code === Code.OK ? Code.UNKNOWN : status.code;
  return new RpcError(code, status.message || codeName(code), { details: status.details, metadata: reply.metadata });
}

/**
 * Builds the error reply for an `RpcError`, in the request's content type.
 * An error whose code is OK or not a status code at all (a handler's
 * `new RpcError(request.code)` with an unchecked number: NaN, 99, -1) goes out
 * as UNKNOWN: OK would read as success, and a non-integer cannot even be
 * written as an AMQP header, so no reply would ever leave.
 */
export function errorToReply(error: RpcError, contentType: ContentType): WireReply {
  const code = error.code !== Code.OK && parseCode(error.code) !== undefined ? error.code : Code.UNKNOWN;
  // bounded: a handler echoing caller input must not make the reply unencodable (wire-bounds.ts)
  const message = boundStatusMessage(error.rawMessage);
  const status: WireStatus = { code, message, details: error.details };
  const body = contentType === PROTOBUF ? encodeStatus(status) : Buffer.from(JSON.stringify(statusToJson(status)));
  return { status: code, message, contentType, body, metadata: error.metadata };
}
