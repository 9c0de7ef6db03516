import type { ServerResponse } from 'node:http';
import { Code, type Metadata, type RpcError } from '../../core/index.js';
import { encodeStatus } from '../../core/protocol/index.js';
import { REQUEST_ID_HEADER } from '../call-headers.js';
import { errorCodeOf, gatewayError, httpStatusFor } from '../http-status.js';
import { SECURITY_HEADERS } from '../security-headers.js';
import { decodeUnaryEnvelope, encodeEnvelope } from './envelope.js';
import { mediaType, metadataHeaders, type WireCodec } from './wire-codec.js';
import { encodeGrpcMessage, parseGrpcTimeout } from './wire-status.js';

/** Request media types gRPC clients send; `+json` and other codecs are refused. */
const GRPC_TYPES: ReadonlySet<string> = new Set(['application/grpc', 'application/grpc+proto']);

/**
 * gRPC's trailers for a status (PROTOCOL-HTTP2.md): `grpc-status`,
 * `grpc-message` percent-encoded, `grpc-status-details-bin` (base64 of the
 * google.rpc.Status, when the error has details), then the reply or error
 * metadata. gRPC-Web writes the same fields into its trailer frame.
 */
export function grpcTrailers(
  code: Code,
  message: string,
  details: RpcError['details'],
  metadata: Metadata,
): Record<string, string> {
  const trailers: Record<string, string> = { 'grpc-status': String(code) };
  if (message !== '') trailers['grpc-message'] = encodeGrpcMessage(message);
  if (details.length > 0)
    trailers['grpc-status-details-bin'] = Buffer.from(encodeStatus({ code, message, details }))
      .toString('base64')
      .replace(/=+$/, '');
  return { ...metadataHeaders(metadata), ...trailers };
}

/** The trailers of an error the gateway answers with. */
export function errorTrailers(error: RpcError): Record<string, string> {
  return grpcTrailers(errorCodeOf(error), error.rawMessage, error.details, error.metadata);
}

/**
 * gRPC over HTTP/2, unary. Requests: `POST /<pkg.Service>/<Method>`,
 * `content-type: application/grpc[+proto]`, one length-prefixed message,
 * `grpc-timeout`; answers: HTTP 200, `application/grpc+proto`, the message,
 * then trailers. Errors never use a non-200 status: the status is in the
 * trailers, after (empty) headers, which every gRPC client reads.
 */
export const grpcCodec: WireCodec = {
  kind: 'grpc',
  timeoutMs: (headers) => parseGrpcTimeout(headers['grpc-timeout']),
  decodeRequest(request, body, type) {
    if (request.httpVersionMajor !== 2)
      throw gatewayError(
        Code.UNIMPLEMENTED,
        'gRPC needs HTTP/2 (prior knowledge on this port); use gRPC-Web or Connect over HTTP/1.1',
      );
    if (!GRPC_TYPES.has(mediaType(request.headers)))
      throw gatewayError(
        Code.UNIMPLEMENTED,
        `content-type ${request.headers['content-type']} is not supported; send application/grpc+proto`,
      );
    checkEncoding(request.headers['grpc-encoding']);
    return decodeMessage(type, decodeUnaryEnvelope(body));
  },
  writeReply(response, type, reply, context) {
    if (response.headersSent) return;
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'application/grpc+proto',
      'grpc-accept-encoding': 'identity',
      [REQUEST_ID_HEADER]: context.requestId,
    });
    response.addTrailers(grpcTrailers(Code.OK, '', [], reply.metadata));
    response.end(encodeEnvelope(0, type.encode(reply.response).finish()));
  },
  writeError(response, error, context) {
    if (!response.headersSent) {
      response.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'application/grpc+proto',
        'grpc-accept-encoding': 'identity',
        [REQUEST_ID_HEADER]: context.requestId,
      });
      response.addTrailers(errorTrailers(error));
      response.end();
    }
    return httpStatusFor(errorCodeOf(error));
  },
};

/** Refuses a compressed request (the gateway only speaks identity). */
export function checkEncoding(encoding: string | string[] | undefined): void {
  if (encoding !== undefined && encoding !== 'identity')
    throw gatewayError(
      Code.UNIMPLEMENTED,
      `grpc-encoding ${String(encoding)} is not supported; the gateway accepts identity only`,
    );
}

/** Decodes a protobuf request, INVALID_ARGUMENT when it does not parse. */
export function decodeMessage(
  type: { decode(input: Uint8Array): unknown; fullName: string },
  payload: Uint8Array,
): unknown {
  try {
    return type.decode(payload);
  } catch (error) {
    throw gatewayError(
      Code.INVALID_ARGUMENT,
      `the request is not a valid ${type.fullName} message: ${(error as Error).message}`,
    );
  }
}

/** For writers outside this file: the response's HTTP/2 stream is gone. */
export function responseGone(response: ServerResponse): boolean {
  const stream = (response as ServerResponse & { stream?: { destroyed: boolean } }).stream;
  return response.destroyed === true || stream?.destroyed === true;
}
