import { Code } from '../protocol/code.js';
import { topicMatches, validateEventType, validatePattern } from '../protocol/event-names.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { RpcError } from '../protocol/rpc-error.js';
import { userPrincipal, type AccessMode } from './access-policy.js';

/** Options of {@link createEventAccess}. */
export interface EventAccessOptions {
  /**
   * Who may publish what: an event type (`shop.orders.v1.OrderPaid`) or a
   * topic pattern (`shop.orders.v1.*`, `shop.#`) → the broker users allowed
   * to publish it. An exact type beats patterns; among patterns the first
   * listed that matches wins. Types no entry covers are open.
   */
  readonly publishers: Readonly<Record<string, readonly string[]>>;
  /** Default `enforce`. */
  readonly mode?: AccessMode;
  /** Prefix of broker user names, as for `createAccessPolicy`: `shop-orders` publishes as `orders`. Default none. */
  readonly userPrefix?: string;
  /** Default: the process logger. */
  readonly logger?: Logger;
}

/**
 * The subscriber's half of event access control (`createEventBus({ access })`):
 * an event whose publisher (its broker-validated `user_id`) is not allowed to
 * publish its type is refused before it is decoded and goes straight to the
 * group's dead-letter queue with the reason (PERMISSION_DENIED, or
 * UNAUTHENTICATED when it proves no identity), never to the handler. The
 * broker's topic permissions (`warren permissions`) stop such events at the
 * source; this check also catches what topic permissions cannot see: events
 * put straight into a group's queue through the default exchange or a delay
 * queue.
 */
export interface EventAccessPolicy {
  readonly mode: AccessMode;
  /** The refusal of an event of `type` published by `userId`, or `undefined` (always, in audit mode, after logging). */
  check(type: string, userId: string | undefined): RpcError | undefined;
}

/** Creates the publisher rules a subscriber enforces. Throws INVALID_ARGUMENT for a malformed entry. */
export function createEventAccess(options: EventAccessOptions): EventAccessPolicy {
  const mode = options.mode ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'audit')
    throw new RpcError(Code.INVALID_ARGUMENT, `access mode must be "enforce" or "audit", got ${JSON.stringify(mode)}`);
  const exact = new Map<string, ReadonlySet<string>>();
  const patterns: { pattern: string; users: ReadonlySet<string> }[] = [];
  for (const [key, users] of Object.entries(options.publishers)) {
    if (!Array.isArray(users) || !users.every((user) => typeof user === 'string' && user !== '')) {
      throw new RpcError(Code.INVALID_ARGUMENT, `publishers of ${key} must be a list of broker user names`);
    }
    const set = new Set(users);
    if (key.includes('*') || key.includes('#')) {
      validatePattern(key);
      patterns.push({ pattern: key, users: set });
    } else {
      validateEventType(key);
      exact.set(key, set);
    }
  }
  const logger = (options.logger ?? defaultLogger()).child({ facet: 'event-access' });
  const principalOf = userPrincipal(options.userPrefix ?? '');

  return {
    mode,
    check(type, userId) {
      const allowed = exact.get(type) ?? patterns.find((entry) => topicMatches(entry.pattern, type))?.users;
      if (allowed === undefined) return undefined;
      let refusal: RpcError | undefined;
      if (userId === undefined) {
        refusal = new RpcError(
          Code.UNAUTHENTICATED,
          `event ${type} carries no broker-validated user_id; only ${[...allowed].join(', ')} may publish it`,
        );
      } else if (!allowed.has(principalOf(userId) ?? '')) {
        refusal = new RpcError(
          Code.PERMISSION_DENIED,
          `event ${type} was published by broker user ${JSON.stringify(userId)}, who may not publish it (allowed: ${[...allowed].join(', ')})`,
        );
      }
      if (refusal === undefined) return undefined;
      const fields = { type, userId, allowed: [...allowed], mode };
      if (mode === 'audit') {
        logger.warn(
          fields,
          'event access audit: this event would be refused; it is handled because the policy only audits',
        );
        return undefined;
      }
      logger.warn(fields, 'event refused: its publisher may not publish it');
      return refusal;
    },
  };
}
