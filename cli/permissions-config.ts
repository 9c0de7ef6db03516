import { readFileSync } from 'node:fs';
import { Code } from '../core/index.js';
import { validateEventType, validateGroup, validatePattern } from '../core/protocol/index.js';
import { CliError, ExitCode, inputError } from './exit-codes.js';

/**
 * The input of `warren permissions`: which broker users exist (one per
 * service, plus pure callers such as the gateway) and what each does on the
 * broker. What the protos say is added to it: a user listed in a method's
 * `(warren.access.v1.method)` callers calls that service, and one listed in
 * an event message's `(warren.access.v1.event)` publishers publishes it.
 *
 * ```json
 * {
 *   "vhost": "/",
 *   "users": {
 *     "payments": { "serves": ["shop.payments.v1.PaymentService"] },
 *     "orders": { "serves": ["shop.orders.v1.OrderService"], "publishes": ["shop.orders.v1.OrderCreated"] },
 *     "notifications": { "subscribes": { "notifications": ["shop.orders.v1.*"] } },
 *     "gateway": { "calls": ["*"] }
 *   }
 * }
 * ```
 */
export interface PermissionsConfig {
  /** Virtual host the permissions are for (a `--vhost` flag wins). Default `/`. */
  readonly vhost: string | undefined;
  /**
   * Prefix of the broker user names (a `--user-prefix` flag wins): with
   * `staging-`, the config's `orders` is the broker user `staging-orders`.
   * Services then need the same `userPrefix` in their access policies. Default none.
   */
  readonly userPrefix: string | undefined;
  readonly users: readonly UserConfig[];
}

/** What one broker user does. */
export interface UserConfig {
  /** The name Warren's access rules give it (callers, publishers); the broker user is the prefix plus this. */
  readonly user: string;
  /** Services (`pkg.Service`) it serves: it declares, binds and consumes `rpc.<service>`. */
  readonly serves: readonly string[];
  /** Services it calls (`*`: any). Only whether it calls at all reaches the broker; the rest is reported. */
  readonly calls: readonly string[];
  /** Event types (full proto names) it publishes: its topic permission on `warren.events`. */
  readonly publishes: readonly string[];
  /** Event groups it consumes, with the types or patterns each binds. */
  readonly subscribes: Readonly<Record<string, readonly string[]>>;
  /** Reads the `warren.mesh` reports (the gateway's `/mesh` page). Default false. */
  readonly viewsMesh: boolean;
}

/** Broker user names the planner accepts: no regex, shell or URL metacharacters. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SERVICE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const FIELDS = new Set(['serves', 'calls', 'publishes', 'subscribes', 'viewsMesh']);

/** Reads and checks a config file; a usage error (exit 2) naming the problem otherwise. */
export function readPermissionsConfig(path: string, command: string): PermissionsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(ExitCode.USAGE, Code.NOT_FOUND, `cannot read ${path}: ${(error as Error).message}`, command, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      ExitCode.USAGE,
      Code.INVALID_ARGUMENT,
      `${path} is not JSON: ${(error as Error).message}`,
      command,
      { cause: error },
    );
  }
  try {
    return parsePermissionsConfig(json);
  } catch (error) {
    throw inputError(new Error(`${path}: ${(error as Error).message}`), command);
  }
}

/** Checks the shape of a parsed config; throws an Error naming the bad field. */
export function parsePermissionsConfig(json: unknown): PermissionsConfig {
  if (!isObject(json)) throw new Error('the config must be a JSON object with "users"');
  for (const key of Object.keys(json))
    if (!['vhost', 'userPrefix', 'users'].includes(key))
      throw new Error(`unknown field ${JSON.stringify(key)} (expected vhost, userPrefix, users)`);
  const vhost = json['vhost'];
  if (vhost !== undefined && (typeof vhost !== 'string' || vhost === ''))
    throw new Error('"vhost" must be a non-empty string');
  const userPrefix = json['userPrefix'];
  if (userPrefix !== undefined && !isUserPrefix(userPrefix))
    throw new Error(`"userPrefix" must be empty or match ${USER_NAME.source}`);
  const users = json['users'];
  if (!isObject(users) || Object.keys(users).length === 0)
    throw new Error('"users" must be an object with at least one user');
  return {
    vhost: vhost as string | undefined,
    userPrefix: userPrefix as string | undefined,
    users: Object.entries(users).map(([user, entry]) => parseUser(user, entry)),
  };
}

function parseUser(user: string, entry: unknown): UserConfig {
  const where = `users.${user}`;
  if (!USER_NAME.test(user)) throw new Error(`${where}: a user name must match ${USER_NAME.source}`);
  if (!isObject(entry)) throw new Error(`${where} must be an object`);
  for (const key of Object.keys(entry))
    if (!FIELDS.has(key))
      throw new Error(`${where}: unknown field ${JSON.stringify(key)} (expected ${[...FIELDS].join(', ')})`);
  const serves = names(entry['serves'], `${where}.serves`, (name) => SERVICE_NAME.test(name));
  const calls = names(entry['calls'], `${where}.calls`, (name) => name === '*' || SERVICE_NAME.test(name));
  const publishes = names(entry['publishes'], `${where}.publishes`, (name) => {
    validateEventType(name);
    return true;
  });
  const subscribes: Record<string, readonly string[]> = {};
  const groups = entry['subscribes'] ?? {};
  if (!isObject(groups))
    throw new Error(`${where}.subscribes must map group names to lists of event types or patterns`);
  for (const [group, patterns] of Object.entries(groups)) {
    validateGroup(group);
    subscribes[group] = names(patterns, `${where}.subscribes.${group}`, (pattern) => {
      validatePattern(pattern);
      return true;
    });
    if (subscribes[group].length === 0) throw new Error(`${where}.subscribes.${group} binds nothing`);
  }
  const viewsMesh = entry['viewsMesh'] ?? false;
  if (typeof viewsMesh !== 'boolean') throw new Error(`${where}.viewsMesh must be true or false`);
  return { user, serves, calls, publishes, subscribes, viewsMesh };
}

function names(value: unknown, where: string, valid: (name: string) => boolean): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${where} must be a list`);
  for (const name of value) {
    let ok: boolean;
    try {
      ok = typeof name === 'string' && valid(name);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
    }
    if (!ok) throw new Error(`${where}: ${JSON.stringify(name)} is not a valid name`);
  }
  return [...new Set(value as string[])];
}

/** True for a valid user-name prefix (possibly empty). */
export function isUserPrefix(value: unknown): value is string {
  return typeof value === 'string' && (value === '' || USER_NAME.test(value));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
