import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, type Logger, type RpcError } from '../core/index.js';
import type { Authenticator } from './auth.js';
import { requestIdOf } from './call-headers.js';
import type { Cors } from './cors.js';
import { gatewayError } from './http-status.js';
import { clientAddress, rateLimitHeaders, type RateLimiter } from './rate-limit.js';
import { sendError } from './respond.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** Default cap on the number of request headers. */
export const DEFAULT_MAX_HEADER_COUNT = 100;

/** What the checks before routing need. */
export interface FrontDoorOptions {
  readonly cors: Cors | undefined;
  readonly authenticator: Authenticator | undefined;
  readonly limiter: RateLimiter | undefined;
  readonly trustProxyHops: number;
  readonly maxHeaderCount: number;
  readonly logger: Logger;
  readonly draining: () => boolean;
  /** Told about every request the front door answered itself (metrics). */
  readonly refused: (request: IncomingMessage, status: number) => void;
  /** Writes a refusal in the request's protocol (JSON, gRPC, gRPC-Web, Connect); returns the status. Default: the JSON error. */
  readonly answerError?: (
    request: IncomingMessage,
    response: ServerResponse,
    error: RpcError,
    requestId: string | undefined,
    close: boolean,
  ) => number;
}

/** A request let through: who it is (when authenticated). */
export interface Admission {
  readonly subject: string | undefined;
}

/** The checks every request passes before routing; `undefined` means it was answered already. */
export type FrontDoor = (
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  operation: boolean,
) => Admission | undefined | Promise<Admission | undefined>;

const OPEN: Admission = Object.freeze({ subject: undefined });

/**
 * Builds the front door, in this order: header count (431), CORS (preflights
 * answered 204, foreign origins 403), authentication (401, or 503 when the
 * key set cannot be fetched; public paths skip it), rate limit per subject,
 * else per client address (429 with `Retry-After`; failed authentications
 * spend the address's tokens too, so guessing keys is throttled; the
 * operations endpoints are not limited). Refusals happen before the body is
 * read; when a body was on its way the connection is closed rather than
 * drained. With nothing configured the checks run synchronously.
 */
export function createFrontDoor(options: FrontDoorOptions): FrontDoor {
  const { cors, authenticator, limiter, logger } = options;

  const refuse = (
    request: IncomingMessage,
    response: ServerResponse,
    error: RpcError,
    requestId = requestIdOf(request.headers),
  ): undefined => {
    const close = options.draining() || hasBody(request);
    const status = options.answerError
      ? options.answerError(request, response, error, requestId, close)
      : sendError(response, error, requestId, close, undefined);
    options.refused(request, status);
    return undefined;
  };

  const limit = (request: IncomingMessage, response: ServerResponse, key: string, requestId?: string): boolean => {
    if (!limiter) return true;
    const decision = limiter.take(key);
    const headers = rateLimitHeaders(decision);
    for (const name of Object.keys(headers)) response.setHeader(name, headers[name]!);
    if (decision.allowed) return true;
    refuse(
      request,
      response,
      gatewayError(Code.RESOURCE_EXHAUSTED, `rate limit exceeded; retry after ${decision.retryAfterSeconds} s`, 429),
      requestId,
    );
    return false;
  };

  const afterAuth = (
    request: IncomingMessage,
    response: ServerResponse,
    subject: string | undefined,
    operation: boolean,
  ): Admission | undefined => {
    if (operation || !limiter) return subject === undefined ? OPEN : { subject };
    const key =
      subject === undefined ? `address ${clientAddress(request, options.trustProxyHops)}` : `subject ${subject}`;
    if (!limit(request, response, key)) return undefined;
    return subject === undefined ? OPEN : { subject };
  };

  return (request, response, path, operation) => {
    if (request.rawHeaders.length / 2 > options.maxHeaderCount) {
      return refuse(
        request,
        response,
        gatewayError(Code.RESOURCE_EXHAUSTED, `too many request headers (at most ${options.maxHeaderCount})`, 431, {
          connection: 'close',
        }),
      );
    }
    if (cors) {
      const verdict = cors.check(request);
      if (verdict.kind === 'refused') {
        for (const name of Object.keys(verdict.headers)) response.setHeader(name, verdict.headers[name]!);
        return refuse(request, response, verdict.error);
      }
      if (verdict.kind === 'preflight') {
        response.writeHead(204, { ...SECURITY_HEADERS, ...verdict.headers, 'content-length': 0 });
        response.end();
        options.refused(request, 204);
        return undefined;
      }
      if (verdict.kind === 'allowed')
        for (const name of Object.keys(verdict.headers)) response.setHeader(name, verdict.headers[name]!);
    }
    if (!authenticator || authenticator.isPublic(request.method ?? 'GET', path))
      return afterAuth(request, response, undefined, operation);
    return authenticator.authenticate(request.headers).then((result) => {
      if (result.subject !== undefined) return afterAuth(request, response, result.subject, operation);
      const address = clientAddress(request, options.trustProxyHops);
      const requestId = requestIdOf(request.headers);
      logger[result.error.code === Code.UNAVAILABLE ? 'warn' : 'info'](
        { requestId, path: path.slice(0, 200), address, reason: result.reason },
        'authentication failed',
      );
      if (!limit(request, response, `address ${address}`, requestId)) return undefined;
      return refuse(request, response, result.error, requestId);
    });
  };
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
