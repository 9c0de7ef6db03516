import { Code } from '../../core/index.js';
import { REQUEST_ID_HEADER } from '../call-headers.js';
import { errorCodeOf, gatewayError, httpStatusFor } from '../http-status.js';
import { SECURITY_HEADERS } from '../security-headers.js';
import { decodeUnaryEnvelope, encodeEnvelope, FLAG_TRAILERS } from './envelope.js';
import { checkEncoding, decodeMessage, errorTrailers, grpcTrailers } from './grpc.js';
import { mediaType, type WireCodec } from './wire-codec.js';
import { parseGrpcTimeout } from './wire-status.js';

const BINARY_TYPES: ReadonlySet<string> = new Set(['application/grpc-web', 'application/grpc-web+proto']);
const TEXT_TYPES: ReadonlySet<string> = new Set(['application/grpc-web-text', 'application/grpc-web-text+proto']);

/** The trailer frame: flag 0x80, then `name:value\r\n` lines (PROTOCOL-WEB.md). */
function trailerFrame(trailers: Record<string, string>): Buffer {
  let text = '';
  for (const name of Object.keys(trailers)) text += `${name}:${trailers[name]}\r\n`;
  return encodeEnvelope(FLAG_TRAILERS, Buffer.from(text, 'latin1'));
}

/**
 * Decodes a grpc-web-text body: base64, possibly several padded chunks one
 * after the other (clients may encode each frame on its own).
 */
export function decodeBase64Chunks(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/=]*$/.test(compact))
    throw gatewayError(Code.INVALID_ARGUMENT, 'a grpc-web-text body must be base64');
  const parts: Buffer[] = [];
  for (const chunk of compact.match(/[^=]+={0,2}|=+/g) ?? []) {
    if (/^=+$/.test(chunk) || chunk.replace(/=+$/, '').length % 4 === 1)
      throw gatewayError(Code.INVALID_ARGUMENT, 'a grpc-web-text body must be base64');
    parts.push(Buffer.from(chunk, 'base64'));
  }
  return Buffer.concat(parts);
}

function grpcWebCodec(text: boolean): WireCodec {
  const contentType = text ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto';
  const accepted = text ? TEXT_TYPES : BINARY_TYPES;
  const write = (
    response: Parameters<WireCodec['writeReply']>[0],
    requestId: string,
    close: boolean,
    body: Buffer,
  ): void => {
    const payload = text ? Buffer.from(body.toString('base64'), 'latin1') : body;
    const headers: Record<string, string | number> = {
      ...SECURITY_HEADERS,
      'content-type': contentType,
      'content-length': payload.length,
      'grpc-accept-encoding': 'identity',
      [REQUEST_ID_HEADER]: requestId,
    };
    if (close && response.req.httpVersionMajor === 1) headers['connection'] = 'close';
    response.writeHead(200, headers);
    response.end(payload);
  };
  return {
    kind: text ? 'grpc-web-text' : 'grpc-web',
    timeoutMs: (headers) => parseGrpcTimeout(headers['grpc-timeout']),
    decodeRequest(request, body, type) {
      if (!accepted.has(mediaType(request.headers)))
        throw gatewayError(
          Code.UNIMPLEMENTED,
          `content-type ${request.headers['content-type']} is not supported; send ${contentType}`,
        );
      checkEncoding(request.headers['grpc-encoding']);
      const bytes = text ? decodeBase64Chunks(body.toString('latin1')) : body;
      return decodeMessage(type, decodeUnaryEnvelope(bytes));
    },
    writeReply(response, type, reply, context) {
      if (response.headersSent) return;
      const message = encodeEnvelope(0, type.encode(reply.response).finish());
      write(
        response,
        context.requestId,
        context.close,
        Buffer.concat([message, trailerFrame(grpcTrailers(Code.OK, '', [], reply.metadata))]),
      );
    },
    writeError(response, error, context) {
      if (!response.headersSent) write(response, context.requestId, context.close, trailerFrame(errorTrailers(error)));
      return httpStatusFor(errorCodeOf(error));
    },
  };
}

/**
 * gRPC-Web, unary (PROTOCOL-WEB.md), over HTTP/1.1 or HTTP/2: the request
 * as in gRPC; the answer is HTTP 200 with the message frame and then the
 * trailers as a frame flagged 0x80 in the body. Errors: the trailer frame
 * alone.
 */
export const grpcWebBinaryCodec: WireCodec = grpcWebCodec(false);
/** gRPC-Web text: the same frames, base64 in both directions (for clients that cannot send binary bodies). */
export const grpcWebTextCodec: WireCodec = grpcWebCodec(true);
