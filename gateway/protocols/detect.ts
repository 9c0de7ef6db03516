import type { IncomingHttpHeaders } from 'node:http';
import type { WireKind } from './wire-codec.js';

/** `/<package.Service>/<Method>`: the path every gRPC-family protocol uses. */
const METHOD_PATH = /^\/([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\/([A-Za-z_][A-Za-z0-9_]*)$/;

/** `pkg.Service/Method` of a gRPC-family path, or `undefined`. */
export function methodPathOf(path: string): string | undefined {
  return METHOD_PATH.test(path) ? path.slice(1) : undefined;
}

/**
 * Which gRPC-family protocol a request speaks, from its method, path and
 * content type; `undefined` for everything else (the JSON routes, the
 * operations endpoints). Cheap: no routing, no body.
 *
 * - `application/grpc[+codec]` → gRPC; `application/grpc-web[-text][+codec]` → gRPC-Web;
 * - `application/connect+codec` → a Connect stream (refused: unary only);
 * - on a `/<pkg.Service>/<Method>` path: POST with `application/json` or
 *   `application/proto`, or any request with `connect-protocol-version` → Connect;
 *   GET with a `message` or `connect=v1` query → Connect GET.
 *
 * The JSON routes live under `/rpc/` and `google.api.http` templates, so a
 * Connect path (one dotted service segment, one method segment) does not
 * clash with them unless a template declares exactly that shape.
 */
export function detectWire(
  method: string,
  path: string,
  query: string,
  headers: IncomingHttpHeaders,
): WireKind | undefined {
  const type = headers['content-type'];
  if (type !== undefined && type.startsWith('application/')) {
    const media = type.slice(12, 40).toLowerCase();
    if (media.startsWith('grpc-web-text')) return 'grpc-web-text';
    if (media.startsWith('grpc-web')) return 'grpc-web';
    if (media.startsWith('grpc')) return 'grpc';
    if (media.startsWith('connect+')) return 'connect-stream';
  }
  if (!METHOD_PATH.test(path)) return undefined;
  if (method === 'GET')
    return /(?:^|&)(?:message=|connect=v1)/.test(query) || headers['connect-protocol-version'] !== undefined
      ? 'connect-get'
      : undefined;
  if (headers['connect-protocol-version'] !== undefined) return 'connect';
  if (method === 'POST' && type !== undefined && /^application\/(json|proto)\s*(;|$)/i.test(type)) return 'connect';
  return undefined;
}
