import type { IncomingMessage } from 'node:http';
import { Code, type RpcError } from '../core/index.js';
import { REQUEST_ID_HEADER, TIMEOUT_HEADER } from './call-headers.js';
import { gatewayError } from './http-status.js';

/** Cross-origin access for browser apps (`createGateway({ cors })`). Off when not given. */
export interface CorsOptions {
  /**
   * Allowed origins, exactly as browsers send them (`https://shop.example`,
   * scheme + host + port, no path). `*` allows any origin, only without
   * `credentials`.
   */
  readonly origins: readonly string[];
  /** Let browsers send cookies / HTTP auth (`Access-Control-Allow-Credentials`). Default false. */
  readonly credentials?: boolean;
  /** Request headers a page may set. Default {@link DEFAULT_CORS_HEADERS}. */
  readonly allowHeaders?: readonly string[];
  /** Response headers a page may read. Default {@link DEFAULT_CORS_EXPOSE}. */
  readonly exposeHeaders?: readonly string[];
  /** How long browsers may cache a preflight answer. Default 600 s. */
  readonly maxAgeSeconds?: number;
}

/** Request headers allowed by default: what the gateway reads, Connect's and gRPC-Web's included (browser clients send them). */
export const DEFAULT_CORS_HEADERS: readonly string[] = [
  'authorization',
  'content-type',
  REQUEST_ID_HEADER,
  TIMEOUT_HEADER,
  'traceparent',
  'tracestate',
  'connect-protocol-version',
  'connect-timeout-ms',
  'grpc-timeout',
  'x-grpc-web',
  'x-user-agent',
];
/** Response headers pages may read by default; gRPC-Web clients need the status headers of trailers-only answers. */
export const DEFAULT_CORS_EXPOSE: readonly string[] = [
  REQUEST_ID_HEADER,
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'grpc-status',
  'grpc-message',
  'grpc-status-details-bin',
];

const METHODS = 'GET, POST, PUT, PATCH, DELETE';

/** What CORS says about one request. */
export type CorsVerdict =
  /** Not a cross-origin browser request, or CORS is off: carry on. */
  | { readonly kind: 'none' }
  /** Allowed: add these headers to the answer and carry on. */
  | { readonly kind: 'allowed'; readonly headers: Readonly<Record<string, string>> }
  /** A preflight: answer 204 with these headers, nothing else. */
  | { readonly kind: 'preflight'; readonly headers: Readonly<Record<string, string>> }
  /** From an origin not on the list: answer this error (403). */
  | { readonly kind: 'refused'; readonly error: RpcError; readonly headers: Readonly<Record<string, string>> };

/** The CORS policy of a gateway. */
export interface Cors {
  check(request: IncomingMessage): CorsVerdict;
}

const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/;

/**
 * Builds the policy. Strict: origins are matched exactly (no suffix or
 * regex matching), `*` together with credentials is refused at start-up,
 * every answer that depends on `Origin` says `Vary: Origin`, and a request
 * from an origin not on the list is refused with 403 (not just left without
 * headers), so a page on another site cannot even trigger side effects with
 * a simple request.
 */
export function createCors(options: CorsOptions): Cors {
  const any = options.origins.includes('*');
  const credentials = options.credentials === true;
  if (any && credentials) throw new TypeError('cors: "*" cannot be combined with credentials; list the origins');
  const origins = new Set<string>();
  for (const origin of options.origins) {
    if (origin === '*') continue;
    if (!ORIGIN.test(origin))
      throw new TypeError(
        `cors origin ${JSON.stringify(origin)} must be scheme://host[:port] in lower case, without a path`,
      );
    origins.add(origin);
  }
  const allowHeaders = (options.allowHeaders ?? DEFAULT_CORS_HEADERS).map((name) => name.toLowerCase());
  const allowHeaderSet = new Set(allowHeaders);
  const exposeHeaders = (options.exposeHeaders ?? DEFAULT_CORS_EXPOSE).join(', ');
  const maxAge = String(options.maxAgeSeconds ?? 600);
  const vary = { vary: 'Origin' };

  return {
    check(request) {
      const origin = request.headers['origin'];
      if (origin === undefined) return { kind: 'none' };
      const allowed = typeof origin === 'string' && (any || origins.has(origin));
      const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
      if (!allowed) {
        return {
          kind: 'refused',
          error: gatewayError(Code.PERMISSION_DENIED, 'this origin is not allowed to call the API', 403),
          headers: vary,
        };
      }
      const base: Record<string, string> = {
        vary: 'Origin',
        'access-control-allow-origin': any && !credentials ? '*' : origin,
      };
      if (credentials) base['access-control-allow-credentials'] = 'true';
      if (!preflight) return { kind: 'allowed', headers: { ...base, 'access-control-expose-headers': exposeHeaders } };
      const requested = String(request.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((name) => name.trim().toLowerCase())
        .filter((name) => name !== '');
      const refusedHeader = requested.find((name) => !allowHeaderSet.has(name));
      if (refusedHeader !== undefined) {
        return {
          kind: 'refused',
          error: gatewayError(
            Code.PERMISSION_DENIED,
            `request header ${JSON.stringify(refusedHeader.slice(0, 64))} is not allowed`,
            403,
          ),
          headers: base,
        };
      }
      return {
        kind: 'preflight',
        headers: {
          ...base,
          vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
          'access-control-allow-methods': METHODS,
          'access-control-allow-headers': allowHeaders.join(', '),
          'access-control-max-age': maxAge,
        },
      };
    },
  };
}
