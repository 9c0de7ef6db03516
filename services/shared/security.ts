/**
 * Who the example services are on the broker, and what they let others do.
 *
 * Each service connects with `<NAME>_AMQP_URL` when it is set (the broker
 * user named after the service, as `warren permissions apply` creates and
 * writes into its env file), else `AMQP_URL`. Per-method access comes from
 * the protos' `(warren.access.v1.method)` options (payments Charge/Refund and
 * inventory Reserve/Release: orders only; reads are open); subscribers take
 * order events only from `orders` ({@link SHOP_EVENT_PUBLISHERS}).
 *
 * `WARREN_ACCESS` decides whether that is enforced:
 *
 * | value | |
 * |---|---|
 * | `auto` (default) | `enforce` when the service connects as its own broker user, `off` as `guest` |
 * | `enforce` | refuse (PERMISSION_DENIED, dead-lettered events) |
 * | `audit` | log what would be refused, refuse nothing |
 * | `off` | no access control |
 *
 * `auto` keeps the default dev setup (every process is `guest`, so user ids
 * say nothing about which service called) working unchanged, and turns
 * enforcement on by itself as soon as services have their own users.
 * `WARREN_USER_PREFIX` is the prefix of those users' names (`staging-` makes
 * `staging-orders` the caller `orders`), as `warren permissions --user-prefix`.
 */
import {
  type AccessMode,
  type AccessPolicy,
  createAccessPolicy,
  createEventAccess,
  DEFAULT_AMQP_URL,
  type EventAccessPolicy,
  type Logger,
  ownBrokerUrl,
} from 'warren';

/** Which users may publish the shop's events (the `(warren.access.v1.event)` options of proto/shop/orders/v1/events.proto). */
export const SHOP_EVENT_PUBLISHERS: Readonly<Record<string, readonly string[]>> = { 'shop.orders.v1.*': ['orders'] };

/** The shared development user, which every process uses by default. */
export const SHARED_DEV_USER = 'guest';

/** `orders` → `ORDERS_AMQP_URL`. */
export function brokerUrlVariable(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_AMQP_URL`;
}

/**
 * The broker URL of a service: `<NAME>_AMQP_URL` (from the environment, or from the env file named by
 * `WARREN_BROKER_USERS_FILE`, as docker-compose's `provision` service writes it), else `AMQP_URL`, else the local broker.
 */
export function serviceBrokerUrl(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return ownBrokerUrl(name, env) || env['AMQP_URL'] || DEFAULT_AMQP_URL;
}

/** The broker user of a URL (`guest` when it names none, as amqplib does). */
export function brokerUser(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username) || SHARED_DEV_USER;
  } catch {
    return SHARED_DEV_USER;
  }
}

/** The access control a service runs with. */
export interface ServiceAccess {
  readonly mode: AccessMode | 'off';
  readonly user: string;
  /** For `createServer({ access })`; absent when off. */
  readonly server?: AccessPolicy;
  /** For `createEventBus({ access })`; absent when off. */
  readonly events?: EventAccessPolicy;
}

/** Reads `WARREN_ACCESS` for a service connecting as `user`; throws naming the variable when it is malformed. */
export function serviceAccess(user: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): ServiceAccess {
  const setting = (env['WARREN_ACCESS'] || 'auto').trim();
  if (!['auto', 'enforce', 'audit', 'off'].includes(setting)) {
    throw new Error(`WARREN_ACCESS must be auto, enforce, audit or off, got ${JSON.stringify(setting)}`);
  }
  const mode = setting === 'auto' ? (user === SHARED_DEV_USER ? 'off' : 'enforce') : (setting as AccessMode | 'off');
  if (mode === 'off') return { mode, user };
  const userPrefix = env['WARREN_USER_PREFIX'] ?? '';
  return {
    mode,
    user,
    server: createAccessPolicy({ mode, logger, userPrefix }),
    events: createEventAccess({ mode, publishers: SHOP_EVENT_PUBLISHERS, logger, userPrefix }),
  };
}
