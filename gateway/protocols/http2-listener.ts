import type { Server as HttpServer } from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** The HTTP/2 connection preface every prior-knowledge client opens with. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Options of {@link attachHttp2}. */
export interface Http2ListenerOptions {
  /** Time a new connection has to send its first bytes before HTTP/1.1 takes it (and its own timeouts apply). */
  readonly firstBytesTimeoutMs: number;
  /** An HTTP/2 connection with no open stream for this long is closed (GOAWAY). */
  readonly idleTimeoutMs: number;
  /** Largest header block (HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE), as `maxHeaderBytes` for HTTP/1.1. */
  readonly maxHeaderBytes: number;
  /** Most header fields per request (pseudo-headers included). */
  readonly maxHeaderPairs: number;
  /** True when `server` is an https.Server: ALPN picks the protocol. */
  readonly tls: boolean;
}

/** The HTTP/2 side of a gateway listener. */
export interface Http2Side {
  /** Sends GOAWAY on every HTTP/2 connection: open streams finish, no new ones start. */
  closeSessions(): void;
  /** Cuts every HTTP/2 connection. */
  destroySessions(): void;
}

/**
 * Makes one node:http (or https) server take HTTP/2 too, on the same port.
 * The HTTP/1.1 server stays the listener, with its own timeouts, parser
 * limits, `clientError` answers and connection tracking untouched; each new
 * connection is looked at once: with TLS, ALPN `h2` goes to HTTP/2; in
 * cleartext, a connection whose first bytes are the HTTP/2 preface
 * ("prior knowledge", what gRPC clients do for h2c) goes to a node:http2
 * server, everything else to the HTTP/1.1 server as before. Both hand
 * requests to the same handler (HTTP/2 through node's compatibility API,
 * which has the shape of IncomingMessage / ServerResponse).
 *
 * Chosen over `http2.createServer({ allowHTTP1: true })`, whose HTTP/1.1
 * fallback is not an http.Server: no headersTimeout / requestTimeout
 * checks, no closeIdleConnections, no clientError answers.
 */
export function attachHttp2(
  server: HttpServer,
  handler: (request: Http2ServerRequest, response: Http2ServerResponse) => void,
  options: Http2ListenerOptions,
): Http2Side {
  const h2 = createHttp2Server(
    { maxHeaderListPairs: options.maxHeaderPairs, settings: { maxHeaderListSize: options.maxHeaderBytes } },
    handler,
  );
  const sessions = new Set<Http2Session>();
  h2.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.setTimeout(options.idleTimeoutMs, () => session.close());
  });
  const event = options.tls ? 'secureConnection' : 'connection';
  const http1 = server.listeners(event) as ((socket: Socket) => void)[];
  server.removeAllListeners(event);
  const toHttp1 = (socket: Socket): void => {
    for (const listener of http1) listener.call(server, socket);
  };
  const toHttp2 = (socket: Socket): void => void h2.emit('connection', socket);

  server.on(event, (socket: Socket) => {
    if (options.tls) {
      const alpn = (socket as TLSSocket).alpnProtocol;
      if (alpn === 'h2') return toHttp2(socket);
      if (alpn === 'http/1.1') return toHttp1(socket);
    }
    // silent too long: HTTP/1.1's own header timeout takes over (and answers 408 as before)
    const timer = setTimeout(() => {
      cleanup();
      toHttp1(socket);
    }, options.firstBytesTimeoutMs);
    const onReadable = (): void => {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) return;
      cleanup();
      socket.unshift(chunk);
      const length = Math.min(chunk.length, PREFACE.length);
      if (chunk.subarray(0, length).equals(PREFACE.subarray(0, length))) toHttp2(socket);
      else toHttp1(socket);
    };
    const onEnd = (): void => {
      cleanup();
      socket.destroy();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
  });
  return {
    closeSessions() {
      for (const session of sessions) session.close();
    },
    destroySessions() {
      for (const session of sessions) session.destroy();
    },
  };
}
