import { readFileSync } from 'node:fs';
import type { ApiKeyOptions, AuthOptions, JwtAuthOptions } from './auth.js';
import type { CorsOptions } from './cors.js';
import type { GatewayOptions } from './create-gateway.js';
import type { RateLimitOptions } from './rate-limit.js';

/** The part of {@link GatewayOptions} that gateway/main.ts reads from the environment. */
export type EnvGatewayOptions = Omit<GatewayOptions, 'transport' | 'protos' | 'logger'>;

/**
 * Reads the gateway's settings from environment variables (gateway/README.md
 * lists them all). Secrets come from files (`*_FILE`), so they stay out of
 * `ps`, process listings and crash dumps of the environment. A malformed
 * value throws naming the variable: the gateway must not start with a
 * security setting it did not understand.
 */
export function gatewayOptionsFromEnv(env: NodeJS.ProcessEnv): EnvGatewayOptions {
  const text = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const list = (name: string): string[] | undefined =>
    text(name)
      ?.split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const integer = (name: string): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return value;
  };
  const positive = (name: string): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
    return value;
  };
  const file = (name: string): string | undefined => {
    const path = text(name);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(
        `${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        { cause: error },
      );
    }
  };
  const flag = (name: string): boolean | undefined => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return undefined;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new Error(`${name} must be true or false, got ${JSON.stringify(raw)}`);
  };

  const options: { -readonly [K in keyof EnvGatewayOptions]: EnvGatewayOptions[K] } = {};
  const set = <K extends keyof EnvGatewayOptions>(key: K, value: EnvGatewayOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set('defaultTimeoutMs', integer('GATEWAY_DEFAULT_TIMEOUT_MS'));
  set('maxTimeoutMs', integer('GATEWAY_MAX_TIMEOUT_MS'));
  set('bodyLimitBytes', integer('GATEWAY_BODY_LIMIT_BYTES'));
  set('drainMs', integer('GATEWAY_DRAIN_MS'));
  set('forwardHeaders', list('GATEWAY_FORWARD_HEADERS'));
  set('expose', list('GATEWAY_EXPOSE'));
  set('maxHeaderBytes', integer('GATEWAY_MAX_HEADER_BYTES'));
  set('maxHeaderCount', integer('GATEWAY_MAX_HEADER_COUNT'));

  const reflection = flag('GATEWAY_REFLECTION');
  if (reflection !== undefined) options.reflection = reflection;
  const tlsCert = file('GATEWAY_TLS_CERT_FILE');
  const tlsKey = file('GATEWAY_TLS_KEY_FILE');
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw new Error('TLS needs both GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE');
  if (tlsCert !== undefined && tlsKey !== undefined) options.tls = { cert: tlsCert, key: tlsKey };

  const jwt = jwtFromEnv(text, list, integer, file);
  const keysFile = text('GATEWAY_API_KEYS_FILE');
  const apiKeys: ApiKeyOptions | undefined =
    keysFile === undefined
      ? undefined
      : {
          keys: parseApiKeys(file('GATEWAY_API_KEYS_FILE')!, keysFile),
          ...optional('header', text('GATEWAY_API_KEY_HEADER')),
        };
  if (jwt || apiKeys) {
    const auth: AuthOptions = {
      ...optional('jwt', jwt),
      ...optional('apiKeys', apiKeys),
      ...optional('publicPaths', list('GATEWAY_PUBLIC_PATHS')),
    };
    options.auth = auth;
  } else if (text('GATEWAY_PUBLIC_PATHS') !== undefined) {
    throw new Error(
      'GATEWAY_PUBLIC_PATHS is set but no authentication is configured (GATEWAY_JWT_* or GATEWAY_API_KEYS_FILE)',
    );
  }

  const rps = positive('GATEWAY_RATE_LIMIT_RPS');
  if (rps !== undefined) {
    const rateLimit: RateLimitOptions = {
      ratePerSecond: rps,
      ...optional('burst', positive('GATEWAY_RATE_LIMIT_BURST')),
      ...optional('maxClients', integer('GATEWAY_RATE_LIMIT_MAX_CLIENTS')),
      ...optional('trustProxyHops', integer('GATEWAY_TRUST_PROXY_HOPS')),
    };
    options.rateLimit = rateLimit;
  }
  const origins = list('GATEWAY_CORS_ORIGINS');
  if (origins) {
    const cors: CorsOptions = {
      origins,
      ...optional('credentials', flag('GATEWAY_CORS_CREDENTIALS')),
      ...optional('maxAgeSeconds', integer('GATEWAY_CORS_MAX_AGE_S')),
    };
    options.cors = cors;
  }
  return options;
}

function jwtFromEnv(
  text: (name: string) => string | undefined,
  list: (name: string) => string[] | undefined,
  integer: (name: string) => number | undefined,
  file: (name: string) => string | undefined,
): JwtAuthOptions | undefined {
  const jwksUrl = text('GATEWAY_JWT_JWKS_URL');
  const secret = file('GATEWAY_JWT_SECRET_FILE')?.trim();
  const publicKey = file('GATEWAY_JWT_PUBLIC_KEY_FILE');
  if (jwksUrl === undefined && secret === undefined && publicKey === undefined) {
    for (const name of ['GATEWAY_JWT_ISSUER', 'GATEWAY_JWT_AUDIENCE']) {
      if (text(name) !== undefined)
        throw new Error(
          `${name} is set but no key is: set GATEWAY_JWT_JWKS_URL, GATEWAY_JWT_SECRET_FILE or GATEWAY_JWT_PUBLIC_KEY_FILE`,
        );
    }
    return undefined;
  }
  const issuer = list('GATEWAY_JWT_ISSUER');
  const audience = list('GATEWAY_JWT_AUDIENCE');
  if (!issuer || !audience) throw new Error('JWT authentication needs GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE');
  return {
    issuer,
    audience,
    ...optional('jwksUrl', jwksUrl),
    ...optional('secret', secret),
    ...optional('publicKey', publicKey),
    ...optional('algorithms', list('GATEWAY_JWT_ALGORITHMS')),
    ...optional('subjectClaim', text('GATEWAY_JWT_SUBJECT_CLAIM')),
    ...optional('clockToleranceSeconds', integer('GATEWAY_JWT_CLOCK_TOLERANCE_S')),
    ...optional('maxTokenAgeSeconds', integer('GATEWAY_JWT_MAX_AGE_S')),
  };
}

/**
 * Parses an API key file: one `<subject> <key>` per line, `#` comments and
 * blank lines ignored. The error names the line number, never the key.
 */
export function parseApiKeys(content: string, where: string): Record<string, string> {
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  content.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) throw new Error(`${where} line ${index + 1}: expected "<subject> <key>"`);
    const [subject, key] = parts as [string, string];
    if (seen.has(subject)) throw new Error(`${where} line ${index + 1}: subject ${subject} has a key already`);
    seen.add(subject);
    entries.push([subject, key]);
  });
  // fromEntries defines own properties, so a subject named __proto__ stays a plain key
  return Object.fromEntries(entries);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
