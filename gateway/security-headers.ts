/**
 * Headers on every answer of the gateway. It serves JSON, protobuf and
 * Prometheus text only, never HTML, so the policy is as closed as it gets:
 *
 * | header | value | why |
 * |---|---|---|
 * | `Cache-Control` | `no-store` | answers are per-caller API data; no shared cache may keep them |
 * | `X-Content-Type-Options` | `nosniff` | a browser never runs a JSON answer as script or HTML |
 * | `Content-Security-Policy` | `default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'` | should an answer ever be rendered, it loads nothing and cannot be framed |
 * | `X-Frame-Options` | `DENY` | framing, for browsers without CSP |
 * | `Referrer-Policy` | `no-referrer` | URLs (ids in paths) do not leak to other sites |
 * | `Cross-Origin-Resource-Policy` | `same-origin` | other sites cannot embed answers with no-cors requests (CORS requests are not affected) |
 *
 * No `X-Powered-By` or `Server` header is sent (node:http adds none).
 * `Strict-Transport-Security` belongs to the TLS terminator in front of the
 * gateway, which speaks plain HTTP itself.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
});

/** The same headers in the raw form written on a socket (`clientError` answers), CRLF-terminated. */
export const SECURITY_HEADER_LINES = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');
