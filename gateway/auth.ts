import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { Code, type RpcError } from '../core/index.js';
import { gatewayError } from './http-status.js';

/** Bearer tokens (JWT) checked with `jose`. Exactly one of `jwksUrl`, `secret`, `publicKey`. */
export interface JwtAuthOptions {
  /** The identity provider's JSON Web Key Set (`https://idp/.well-known/jwks.json`); keys are cached and refetched on an unknown `kid`. */
  readonly jwksUrl?: string;
  /** A shared secret (HS256/384/512). At least 32 bytes. */
  readonly secret?: string | Uint8Array;
  /** A PEM public key (SPKI, `-----BEGIN PUBLIC KEY-----`). */
  readonly publicKey?: string;
  /** Required `iss`: tokens from any other issuer are refused. */
  readonly issuer: string | readonly string[];
  /** Required `aud`: tokens minted for another service are refused. */
  readonly audience: string | readonly string[];
  /**
   * Accepted `alg` values. Default: HS256/384/512 for a secret, RS256, PS256,
   * ES256, EdDSA for keys (never `none`, never HMAC with a public key).
   */
  readonly algorithms?: readonly string[];
  /** Allowed clock skew for `exp` / `nbf`. Default 5 s. */
  readonly clockToleranceSeconds?: number;
  /** Oldest acceptable `iat`; unset: any (still bounded by `exp`, which is required). */
  readonly maxTokenAgeSeconds?: number;
  /** The claim naming the caller. Default `sub`. */
  readonly subjectClaim?: string;
}

/** Static API keys: each key names the subject that uses it. */
export interface ApiKeyOptions {
  /** Subject → key. Keys of at least 16 characters; a key may appear once. */
  readonly keys: Readonly<Record<string, string>>;
  /** Header the key may come in (besides `Authorization: Bearer <key>`). Default `x-api-key`. */
  readonly header?: string;
}

/** The gateway's authentication (`createGateway({ auth })`). */
export interface AuthOptions {
  readonly jwt?: JwtAuthOptions;
  readonly apiKeys?: ApiKeyOptions;
  /**
   * Requests answered without credentials: `/path` (exact), `/prefix/*`
   * (anything under it), optionally after a method (`GET /v1/stock`).
   * Default {@link DEFAULT_PUBLIC_PATHS}; `/metrics` and `/openapi.json`
   * need credentials unless listed.
   */
  readonly publicPaths?: readonly string[];
  /** `realm` of the `WWW-Authenticate` challenge. Default `warren`. */
  readonly realm?: string;
  /**
   * The metadata key the verified subject reaches services under. Default
   * {@link SUBJECT_METADATA}. Whatever a client sends under this name is
   * never forwarded (headers are an allow-list, and this key may not be on it).
   */
  readonly subjectMetadataKey?: string;
}

/** Default public paths: the probes. */
export const DEFAULT_PUBLIC_PATHS: readonly string[] = ['/healthz', '/readyz'];
/** Default metadata key of the verified subject. */
export const SUBJECT_METADATA = 'auth-subject';

/** Outcome of {@link Authenticator.authenticate}: a subject, or the error to answer with. */
export type AuthResult =
  | { readonly subject: string; readonly error?: undefined }
  | { readonly subject?: undefined; readonly error: RpcError; readonly reason: string };

/** Verifies the credentials of a request. */
export interface Authenticator {
  /** True when `method path` needs no credentials. */
  isPublic(method: string, path: string): boolean;
  authenticate(headers: IncomingHttpHeaders): Promise<AuthResult>;
  readonly subjectMetadataKey: string;
}

const SUBJECT = /^[\x21-\x7e][\x20-\x7e]{0,255}$/;
const HMAC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/**
 * Builds the authenticator. Credentials: `Authorization: Bearer <token>`
 * (an API key or a JWT) or the API-key header. Missing → 401 with
 * `WWW-Authenticate: Bearer realm="…"`; invalid (bad signature, expired,
 * wrong issuer or audience, unknown key) → 401 with `error="invalid_token"`.
 * The body never says which check failed (`reason` is for the log only).
 * A JWKS that cannot be fetched is 503: the gateway cannot tell good tokens
 * from bad, and that is not the caller's fault. Config mistakes throw here.
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const realm = options.realm ?? 'warren';
  if (!/^[\x20-\x7e]*$/.test(realm) || realm.includes('"'))
    throw new TypeError('auth realm must be printable ASCII without quotes');
  if (!options.jwt && !options.apiKeys) throw new TypeError('auth needs jwt and/or apiKeys');
  const keyHeader = (options.apiKeys?.header ?? 'x-api-key').toLowerCase();
  const keys = apiKeyTable(options.apiKeys);
  const verify = options.jwt ? jwtVerifier(options.jwt) : undefined;
  const isPublic = publicMatcher(options.publicPaths ?? DEFAULT_PUBLIC_PATHS);
  const missing = (): AuthResult => ({
    error: gatewayError(Code.UNAUTHENTICATED, 'missing or invalid credentials', 401, {
      'www-authenticate': `Bearer realm="${realm}"`,
    }),
    reason: 'no credentials',
  });
  const invalid = (reason: string): AuthResult => ({
    error: gatewayError(Code.UNAUTHENTICATED, 'missing or invalid credentials', 401, {
      'www-authenticate': `Bearer realm="${realm}", error="invalid_token"`,
    }),
    reason,
  });

  return {
    isPublic,
    subjectMetadataKey: options.subjectMetadataKey ?? SUBJECT_METADATA,
    async authenticate(headers) {
      const authorization = headers['authorization'];
      const keyValue = keys ? headers[keyHeader] : undefined;
      let bearer: string | undefined;
      if (typeof authorization === 'string' && authorization !== '') {
        const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
        if (!match) return invalid('Authorization is not "Bearer <token>"');
        bearer = match[1]!;
      }
      if (keys && typeof keyValue === 'string' && keyValue !== '') {
        const subject = keys.get(digest(keyValue));
        return subject === undefined ? invalid('unknown API key') : { subject };
      }
      if (bearer === undefined) return missing();
      const keySubject = keys?.get(digest(bearer));
      if (keySubject !== undefined) return { subject: keySubject };
      if (!verify) return invalid('unknown API key');
      return verify(bearer, invalid);
    },
  };
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64');
}

/** Keys are looked up by their SHA-256, so the lookup time does not depend on how much of a guess matches. */
function apiKeyTable(options: ApiKeyOptions | undefined): Map<string, string> | undefined {
  if (!options) return undefined;
  const table = new Map<string, string>();
  for (const [subject, key] of Object.entries(options.keys)) {
    if (!SUBJECT.test(subject))
      throw new TypeError(`API key subject ${JSON.stringify(subject)} must be 1–256 printable ASCII characters`);
    if (typeof key !== 'string' || key.length < 16 || !/^[\x21-\x7e]+$/.test(key))
      throw new TypeError(`the API key of ${subject} must be at least 16 printable ASCII characters without spaces`);
    const hash = digest(key);
    if (table.has(hash)) throw new TypeError(`the API key of ${subject} is also another subject's key`);
    table.set(hash, subject);
  }
  if (table.size === 0) throw new TypeError('apiKeys.keys is empty');
  return table;
}

function jwtVerifier(
  options: JwtAuthOptions,
): (token: string, invalid: (reason: string) => AuthResult) => Promise<AuthResult> {
  const sources = [options.jwksUrl, options.secret, options.publicKey].filter((source) => source !== undefined).length;
  if (sources !== 1) throw new TypeError('auth.jwt needs exactly one of jwksUrl, secret, publicKey');
  if (!options.issuer || (Array.isArray(options.issuer) && options.issuer.length === 0))
    throw new TypeError('auth.jwt.issuer is required');
  if (!options.audience || (Array.isArray(options.audience) && options.audience.length === 0))
    throw new TypeError('auth.jwt.audience is required');
  let key: Uint8Array | KeyObject | JWTVerifyGetKey;
  let allowed: readonly string[];
  if (options.jwksUrl !== undefined) {
    const url = new URL(options.jwksUrl);
    if (url.protocol !== 'https:' && url.hostname !== 'localhost' && url.hostname !== '127.0.0.1')
      throw new TypeError('auth.jwt.jwksUrl must be https (plain http only for localhost)');
    key = createRemoteJWKSet(url, { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    allowed = ASYMMETRIC;
  } else if (options.secret !== undefined) {
    key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
    if (key.byteLength < 32) throw new TypeError('auth.jwt.secret must be at least 32 bytes');
    allowed = HMAC;
  } else {
    try {
      key = createPublicKey(options.publicKey!);
    } catch (error) {
      throw new TypeError(`auth.jwt.publicKey is not a PEM public key: ${(error as Error).message}`, { cause: error });
    }
    if (key.type !== 'public') throw new TypeError('auth.jwt.publicKey must be a public key');
    allowed = ASYMMETRIC;
  }
  const algorithms = options.algorithms ?? allowed;
  for (const alg of algorithms)
    if (!allowed.includes(alg))
      throw new TypeError(`auth.jwt.algorithms: ${alg} does not fit this key (allowed: ${allowed.join(', ')})`);
  const subjectClaim = options.subjectClaim ?? 'sub';
  const verifyOptions: JWTVerifyOptions = {
    issuer: typeof options.issuer === 'string' ? options.issuer : [...options.issuer],
    audience: typeof options.audience === 'string' ? options.audience : [...options.audience],
    algorithms: [...algorithms],
    clockTolerance: options.clockToleranceSeconds ?? 5,
    requiredClaims: ['exp', subjectClaim],
    ...(options.maxTokenAgeSeconds === undefined ? {} : { maxTokenAge: options.maxTokenAgeSeconds }),
  };
  return async (token, invalid) => {
    try {
      const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, verifyOptions);
      const subject = payload[subjectClaim];
      if (typeof subject !== 'string' || !SUBJECT.test(subject))
        return invalid(`claim ${subjectClaim} is not 1–256 printable ASCII characters`);
      return { subject };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // JWKS trouble: timeout, not 200, not JSON, network (a TypeError from fetch)
      const jwksDown =
        options.jwksUrl !== undefined &&
        (code === 'ERR_JWKS_TIMEOUT' ||
          code === 'ERR_JWKS_INVALID' ||
          code === 'ERR_JOSE_GENERIC' ||
          !(error instanceof joseErrors.JOSEError));
      if (jwksDown) {
        return {
          error: gatewayError(Code.UNAVAILABLE, 'credentials cannot be verified right now; retry later', 503),
          reason: `JWKS unavailable (${typeof code === 'string' ? code : (error as Error).name})`,
        };
      }
      return invalid(typeof code === 'string' ? code : 'malformed token');
    }
  };
}

/** Public path patterns → a matcher. */
function publicMatcher(patterns: readonly string[]): (method: string, path: string) => boolean {
  const rules = patterns.map((raw) => {
    const space = raw.indexOf(' ');
    const method = space < 0 ? undefined : raw.slice(0, space).toUpperCase();
    const path = space < 0 ? raw : raw.slice(space + 1).trim();
    if (!path.startsWith('/') || path.slice(0, -1).includes('*'))
      throw new TypeError(`public path ${JSON.stringify(raw)} must be /path or /prefix/* (optionally after a method)`);
    return path.endsWith('*') ? { method, prefix: path.slice(0, -1) } : { method, exact: path };
  });
  return (method, path) =>
    rules.some(
      (rule) =>
        (rule.method === undefined || rule.method === method) &&
        (rule.exact !== undefined ? path === rule.exact : path.startsWith(rule.prefix!)),
    );
}
