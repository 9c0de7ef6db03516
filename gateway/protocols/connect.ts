import { isUtf8 } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import { Code, type RpcError } from '../../core/index.js';
import { type ProtoRegistry } from '../../core/tooling.js';
import { REQUEST_ID_HEADER } from '../call-headers.js';
import { errorBody } from '../error-body.js';
import { errorCodeOf, gatewayError, httpHeadersOf } from '../http-status.js';
import { parseJsonBody } from '../request-body.js';
import { SECURITY_HEADERS } from '../security-headers.js';
import { encodeEnvelope, FLAG_END_STREAM } from './envelope.js';
import { decodeMessage } from './grpc.js';
import { mediaType, metadataHeaders, type WireCodec, type WriteContext } from './wire-codec.js';
import { CONNECT_CODE_NAMES, CONNECT_HTTP_STATUS, parseConnectTimeout } from './wire-status.js';

const JSON_TYPE = 'application/json';
const PROTO_TYPE = 'application/proto';

/** Connect's JSON error: `{"code": "not_found", "message": "…", "details": [{"type", "value", "debug"}]}`. */
export function connectErrorJson(error: RpcError, registry: ProtoRegistry | undefined): Record<string, unknown> {
  const code = errorCodeOf(error);
  const { message } = errorBody(error, undefined);
  const expanded = registry ? errorBody(error, registry).details : [];
  const details = error.details.map((detail, index) => {
    const debug = expanded[index];
    const entry: Record<string, unknown> = {
      type: detail.typeUrl.slice(detail.typeUrl.lastIndexOf('/') + 1),
      value: Buffer.from(detail.value).toString('base64').replace(/=+$/, ''),
    };
    if (debug && !('value' in debug && Object.keys(debug).length === 2)) {
      const fields: Record<string, unknown> = { ...debug };
      delete fields['@type'];
      entry['debug'] = fields;
    }
    return entry;
  });
  return {
    code: CONNECT_CODE_NAMES[code],
    ...(message === '' ? {} : { message }),
    ...(details.length === 0 ? {} : { details }),
  };
}

function checkVersion(value: string | string[] | undefined): void {
  if (value !== undefined && value !== '1')
    throw gatewayError(Code.INVALID_ARGUMENT, 'connect-protocol-version must be 1');
}

function decodeJson(type: Parameters<WireCodec['decodeRequest']>[2], bytes: Buffer): unknown {
  return type.fromJSON(parseJsonBody(bytes));
}

function writeError(response: ServerResponse, error: RpcError, context: WriteContext): number {
  const status = CONNECT_HTTP_STATUS[errorCodeOf(error)];
  if (response.headersSent) return status;
  const body = JSON.stringify(connectErrorJson(error, context.registry));
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    ...metadataHeaders(error.metadata),
    ...(httpHeadersOf(error) ?? {}),
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(body),
    [REQUEST_ID_HEADER]: context.requestId,
  };
  if (response.req.httpVersionMajor !== 1) delete headers['connection'];
  else if (context.close) headers['connection'] = 'close';
  response.writeHead(status, headers);
  response.end(body);
  return status;
}

function writeReply(
  response: ServerResponse,
  proto: boolean,
  body: string | Uint8Array,
  trailers: Record<string, string>,
  context: WriteContext,
): void {
  if (response.headersSent) return;
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    ...trailers,
    'content-type': proto ? PROTO_TYPE : JSON_TYPE,
    'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    [REQUEST_ID_HEADER]: context.requestId,
  };
  if (context.close && response.req.httpVersionMajor === 1) headers['connection'] = 'close';
  response.writeHead(200, headers);
  response.end(body);
}

/**
 * Connect unary over POST (connectrpc.com/docs/protocol): the body is the
 * bare message, `application/json` (proto3 JSON, strict like the JSON
 * routes) or `application/proto`; the answer uses the same encoding.
 * Reply metadata are Connect unary trailers: headers prefixed `trailer-`.
 * Errors: the table status and the JSON error body (string code, message,
 * details with base64 `value` and, when the type is loaded, `debug`).
 */
export const connectCodec: WireCodec = {
  kind: 'connect',
  timeoutMs: (headers) => parseConnectTimeout(headers['connect-timeout-ms']),
  decodeRequest(request, body, type) {
    checkVersion(request.headers['connect-protocol-version']);
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity')
      throw gatewayError(Code.UNIMPLEMENTED, `content-encoding ${String(encoding)} is not supported; send identity`);
    const media = mediaType(request.headers);
    if (media === PROTO_TYPE) return decodeMessage(type, body);
    if (media !== JSON_TYPE)
      throw gatewayError(
        Code.UNIMPLEMENTED,
        `content-type ${request.headers['content-type']} is not supported; send application/json or application/proto`,
      );
    return decodeJson(type, body);
  },
  writeReply(response, type, reply, context) {
    const proto = mediaType(response.req.headers) === PROTO_TYPE;
    const trailers = metadataHeaders(reply.metadata, 'trailer-');
    writeReply(
      response,
      proto,
      proto ? type.encode(reply.response).finish() : JSON.stringify(type.toJSON(reply.response)),
      trailers,
      context,
    );
  },
  writeError,
};

/**
 * Connect unary over GET, for methods marked `idempotency_level =
 * NO_SIDE_EFFECTS`: `?connect=v1&encoding=json|proto&message=…[&base64=1]`
 * (proto needs base64, URL-safe or standard); `compression` must be absent
 * or `identity`.
 */
export const connectGetCodec: WireCodec = {
  kind: 'connect-get',
  timeoutMs: (headers) => parseConnectTimeout(headers['connect-timeout-ms']),
  decodeRequest(_request, _body, type, query) {
    const version = query.get('connect');
    if (version !== null && version !== 'v1')
      throw gatewayError(Code.INVALID_ARGUMENT, 'the connect query parameter must be v1');
    const compression = query.get('compression');
    if (compression !== null && compression !== 'identity')
      throw gatewayError(Code.UNIMPLEMENTED, `compression ${compression} is not supported`);
    const encoding = query.get('encoding');
    if (encoding !== 'json' && encoding !== 'proto')
      throw gatewayError(Code.INVALID_ARGUMENT, 'the encoding query parameter must be json or proto');
    const raw = query.get('message') ?? '';
    const base64 = query.get('base64') === '1';
    if (!base64 && encoding === 'proto')
      throw gatewayError(Code.INVALID_ARGUMENT, 'a proto message in the query must be base64 (base64=1)');
    if (base64 && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw))
      throw gatewayError(Code.INVALID_ARGUMENT, 'the message query parameter is not base64');
    const bytes = base64 ? Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : Buffer.from(raw, 'utf8');
    if (encoding === 'proto') return decodeMessage(type, bytes);
    if (!isUtf8(bytes)) throw gatewayError(Code.INVALID_ARGUMENT, 'the message query parameter is not UTF-8');
    return decodeJson(type, bytes);
  },
  writeReply(response, type, reply, context) {
    const url = response.req.url ?? '';
    const proto = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('encoding') === 'proto';
    writeReply(
      response,
      proto,
      proto ? type.encode(reply.response).finish() : JSON.stringify(type.toJSON(reply.response)),
      metadataHeaders(reply.metadata, 'trailer-'),
      context,
    );
  },
  writeError,
};

/**
 * A Connect streaming request (`application/connect+json|proto`): the
 * gateway is unary only, so it answers UNIMPLEMENTED the way a Connect
 * stream ends: HTTP 200, and one end-of-stream message (flag 0x02) whose
 * JSON holds the error.
 */
export const connectStreamCodec: WireCodec = {
  kind: 'connect-stream',
  timeoutMs: (headers) => parseConnectTimeout(headers['connect-timeout-ms']),
  decodeRequest() {
    throw gatewayError(Code.UNIMPLEMENTED, 'streaming calls are not supported by the gateway; call unary methods');
  },
  writeReply() {
    throw new TypeError('a Connect stream never gets a reply from the gateway');
  },
  writeError(response, error, context) {
    if (!response.headersSent) {
      const media = mediaType(response.req.headers);
      const body = encodeEnvelope(
        FLAG_END_STREAM,
        Buffer.from(JSON.stringify({ error: connectErrorJson(error, context.registry) })),
      );
      response.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': media.startsWith('application/connect+') ? media : 'application/connect+json',
        'content-length': body.length,
        [REQUEST_ID_HEADER]: context.requestId,
      });
      response.end(body);
    }
    return CONNECT_HTTP_STATUS[errorCodeOf(error)];
  },
};
