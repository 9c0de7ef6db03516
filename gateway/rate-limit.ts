import type { IncomingMessage } from 'node:http';

/** Per-client rate limits (`createGateway({ rateLimit })`): a token bucket per client. */
export interface RateLimitOptions {
  /** Sustained requests per second per client. */
  readonly ratePerSecond: number;
  /** Bucket size: requests a client may send at once after being idle. Default `max(1, ratePerSecond)`. */
  readonly burst?: number;
  /**
   * Most clients tracked at once; beyond it the least recently seen is
   * forgotten (it starts again with a full bucket). Default 100 000 (about
   * 10 MB at most).
   */
  readonly maxClients?: number;
  /**
   * Proxies in front of the gateway whose `X-Forwarded-For` entries are
   * trusted: 0 (default) uses the socket's address; 1 takes the last
   * entry (added by the one proxy you run), and so on. Never set it without a
   * proxy that overwrites the header: a client could pick any address.
   */
  readonly trustProxyHops?: number;
}

/** One decision of the limiter. */
export interface RateDecision {
  readonly allowed: boolean;
  /** The bucket size (`RateLimit-Limit`). */
  readonly limit: number;
  /** Whole requests left now (`RateLimit-Remaining`). */
  readonly remaining: number;
  /** Seconds until the bucket is full again (`RateLimit-Reset`). */
  readonly resetSeconds: number;
  /** When refused: seconds until one request is allowed (`Retry-After`). */
  readonly retryAfterSeconds: number;
}

/** Token buckets keyed by client, with bounded memory. */
export interface RateLimiter {
  /** Takes one token from `key`'s bucket. */
  take(key: string, now?: number): RateDecision;
  /** Buckets held now (idle ones are dropped as they refill). */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Creates the limiter. Buckets live in a Map kept in least-recently-used
 * order; a bucket idle long enough to be full again is the same as no
 * bucket, so each call drops such buckets from the old end (amortised O(1)),
 * and `maxClients` caps the rest: a flood of new addresses cannot grow
 * memory without bound.
 */
export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const rate = options.ratePerSecond;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new TypeError('rateLimit.ratePerSecond must be a positive number');
  const burst = options.burst ?? Math.max(1, rate);
  if (!(burst >= 1) || !Number.isFinite(burst)) throw new TypeError('rateLimit.burst must be at least 1');
  const maxClients = options.maxClients ?? 100_000;
  if (!Number.isInteger(maxClients) || maxClients < 1)
    throw new TypeError('rateLimit.maxClients must be a positive whole number');
  const refillMs = (burst / rate) * 1000;
  const buckets = new Map<string, Bucket>();

  const evict = (now: number): void => {
    for (const [key, bucket] of buckets) {
      if (buckets.size <= maxClients && now - bucket.at < refillMs) break;
      buckets.delete(key);
    }
  };

  return {
    take(key, now = performance.now()) {
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key);
        bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
        bucket.at = now;
      } else {
        bucket = { tokens: burst, at: now };
      }
      buckets.set(key, bucket);
      evict(now);
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      return {
        allowed,
        limit: Math.floor(burst),
        remaining: Math.floor(bucket.tokens),
        resetSeconds: Math.ceil((burst - bucket.tokens) / rate),
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / rate)),
      };
    },
    get size() {
      return buckets.size;
    },
  };
}

/** The response headers of a decision (IETF draft `RateLimit-*` fields, plus `Retry-After` when refused). */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
  };
  if (!decision.allowed) headers['retry-after'] = String(decision.retryAfterSeconds);
  return headers;
}

/** The client's address: the socket's, or the `trustProxyHops`-th `X-Forwarded-For` entry from the right. */
export function clientAddress(request: IncomingMessage, trustProxyHops = 0): string {
  const socketAddress = request.socket.remoteAddress ?? 'unknown';
  if (trustProxyHops <= 0) return socketAddress;
  const header = request.headers['x-forwarded-for'];
  const list = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const entry = list[list.length - trustProxyHops];
  return entry !== undefined && entry.length <= 64 ? entry : socketAddress;
}
