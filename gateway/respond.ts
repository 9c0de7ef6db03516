import type { ServerResponse } from 'node:http';
import { type ProtoRegistry } from '../core/tooling.js';
import { type RpcError } from '../core/index.js';
import { REQUEST_ID_HEADER } from './call-headers.js';
import { errorBody } from './error-body.js';
import { httpHeadersOf, httpStatusOf } from './http-status.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** JSON media type of every JSON answer. */
export const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * Writes a whole answer in one go (status line, headers and body in a
 * single write for small bodies), with {@link SECURITY_HEADERS}. `close`
 * asks the client to drop the connection afterwards (shutdown, oversized
 * bodies, refusals before the body was read).
 */
export function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string | Uint8Array,
  requestId: string | undefined,
  close: boolean,
  extra?: Readonly<Record<string, string>>,
): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    'content-type': contentType,
    'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
  };
  if (requestId !== undefined) headers[REQUEST_ID_HEADER] = requestId;
  // HTTP/2 has no Connection header (node drops it with a warning); shutdown sends GOAWAY instead
  if (close && response.req?.httpVersionMajor !== 2) headers['connection'] = 'close';
  if (extra) Object.assign(headers, extra);
  if (response.req?.httpVersionMajor === 2) delete headers['connection'];
  response.writeHead(status, headers);
  response.end(body);
}

/** Writes an error as `{code, message, details}` with its HTTP status; returns the status. */
export function sendError(
  response: ServerResponse,
  error: RpcError,
  requestId: string | undefined,
  close: boolean,
  registry: ProtoRegistry | undefined,
): number {
  const status = httpStatusOf(error);
  const extra = httpHeadersOf(error);
  send(
    response,
    status,
    JSON_UTF8,
    JSON.stringify(errorBody(error, registry)),
    requestId,
    close || extra?.['connection'] === 'close',
    extra,
  );
  return status;
}
