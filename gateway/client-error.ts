import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Code } from '../core/index.js';
import { SECURITY_HEADER_LINES } from './security-headers.js';

/**
 * Answers a request node's HTTP parser refused before the gateway saw it
 * (`clientError`): a malformed request line or header, an oversized head, a
 * request not received in time. Like every gateway error it is a JSON
 * google.rpc.Status, then the connection closes:
 *
 * | case | HTTP | code |
 * |---|---|---|
 * | headers or body not received in time | 408 | 4 DEADLINE_EXCEEDED |
 * | head over the size limit | 431 | 8 RESOURCE_EXHAUSTED |
 * | anything else the parser refuses | 400 | 3 INVALID_ARGUMENT (the parser's error code in the message) |
 *
 * Nothing is written when a response on that connection has already begun
 * (a pipelined request after a good one): another status line in the middle
 * would corrupt it, so the connection is just closed, as node itself does.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, maxHeaderBytes: number): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!socket.writable || socket.destroyed || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['408 Request Timeout', Code.DEADLINE_EXCEEDED, 'the request was not received in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [
            '431 Request Header Fields Too Large',
            Code.RESOURCE_EXHAUSTED,
            `the request line and headers exceed ${maxHeaderBytes} bytes`,
          ]
        : [
            '400 Bad Request',
            Code.INVALID_ARGUMENT,
            `malformed HTTP request (${/^[A-Z_]{1,40}$/.test(error.code ?? '') ? error.code : 'unparsable'})`,
          ];
  const body = JSON.stringify({ code, message, details: [] });
  socket.end(
    `HTTP/1.1 ${status}\r\n${SECURITY_HEADER_LINES}Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
