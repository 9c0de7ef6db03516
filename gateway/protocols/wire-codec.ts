import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicMessageType, type ProtoRegistry } from '../../core/tooling.js';
import { type Metadata, type RpcError } from '../../core/index.js';
import type { GatewayReply } from '../rpc-call.js';

/** The gRPC-family protocols the gateway recognises on a request. */
export type WireKind = 'grpc' | 'grpc-web' | 'grpc-web-text' | 'connect' | 'connect-get' | 'connect-stream';

/** What a writer needs besides the message. */
export interface WriteContext {
  readonly requestId: string;
  /** Ask the client to close the connection (shutdown, refusals before the body was read). HTTP/1.1 only. */
  readonly close: boolean;
  /** Expands error details in JSON (Connect's `debug`). */
  readonly registry: ProtoRegistry | undefined;
}

/**
 * One protocol's request decoding and answer encoding. The call in between
 * is the same for every protocol (gateway/unary-invoke.ts).
 */
export interface WireCodec {
  readonly kind: WireKind;
  /** The protocol's own timeout header in ms (`undefined`: none sent); malformed: INVALID_ARGUMENT. */
  timeoutMs(headers: IncomingHttpHeaders): number | undefined;
  /** Decodes the request message from the body (or, for Connect GET, the query). */
  decodeRequest(request: IncomingMessage, body: Buffer, type: DynamicMessageType, query: URLSearchParams): unknown;
  /** Writes a successful answer. */
  writeReply(response: ServerResponse, type: DynamicMessageType, reply: GatewayReply, context: WriteContext): void;
  /** Writes an error in the protocol's shape; returns the HTTP-equivalent status for metrics and logs. */
  writeError(response: ServerResponse, error: RpcError, context: WriteContext): number;
}

// names a protocol, HTTP/2 or HTTP itself owns: never written from metadata
const OWNED =
  /^(grpc-|connect-|content-|accept|trailer|te$|host$|connection$|keep-alive$|transfer-encoding$|upgrade$|proxy-|date$|set-cookie$|cookie$|authorization$|www-authenticate$|access-control-|location$|server$|vary$)/;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * Metadata entries that can travel as HTTP headers: keys a protocol or HTTP
 * owns are skipped, as are values outside printable ASCII (Warren metadata
 * is text; HTTP/2 header values are not). Keys ending in `-bin` already hold
 * base64 (Warren's convention, the same as gRPC's), so they pass unchanged.
 */
export function metadataHeaders(metadata: Metadata, prefix = ''): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const key of Object.keys(metadata)) {
    const value = metadata[key]!;
    if (OWNED.test(key) || key.startsWith('warren-') || !HEADER_VALUE.test(value)) continue;
    headers[prefix + key] = value;
  }
  return headers;
}

/** The media type without parameters, lower case. */
export function mediaType(headers: IncomingHttpHeaders): string {
  const raw = headers['content-type'] ?? '';
  const semicolon = raw.indexOf(';');
  return (semicolon < 0 ? raw : raw.slice(0, semicolon)).trim().toLowerCase();
}
