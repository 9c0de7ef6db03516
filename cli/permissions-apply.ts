import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Code } from '../core/index.js';
import { brokerUrls } from '../core/tooling.js';
import { CliError, ExitCode } from './exit-codes.js';
import { planCommands, type PermissionsPlan, type PlannedCommand } from './permissions-plan.js';

/**
 * Runs `rabbitmqctl` (`RABBITMQCTL` from the environment, else the one on
 * PATH). It talks to the broker node over Erlang distribution, so it works
 * where the broker runs, as a user sharing its Erlang cookie (root or
 * rabbitmq on a dev machine): no management plugin, no broker password.
 */
export interface Rabbitmqctl {
  /** Resolves stdout; rejects with a CliError (exit 1) carrying rabbitmqctl's own message. */
  run(args: readonly string[], input?: string): Promise<string>;
}

/** The real rabbitmqctl. */
export function createRabbitmqctl(path: string = process.env['RABBITMQCTL'] ?? 'rabbitmqctl'): Rabbitmqctl {
  return {
    run(args, input) {
      return new Promise((resolve, reject) => {
        const child = execFile(
          path,
          [...args],
          { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) => {
            if (!error) return resolve(stdout);
            const detail = (stderr || stdout || error.message).trim().split('\n').slice(-3).join(' ');
            const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
            reject(
              new CliError(
                ExitCode.FAILED,
                missing ? Code.FAILED_PRECONDITION : Code.UNKNOWN,
                missing
                  ? `${path} not found: run this where the broker runs, or set RABBITMQCTL`
                  : `rabbitmqctl ${args[0]} failed: ${detail}`,
                undefined,
                { cause: error },
              ),
            );
          },
        );
        child.stdin?.end(input ?? '');
      });
    },
  };
}

/** Broker user names that exist. */
export async function listUsers(ctl: Rabbitmqctl): Promise<Set<string>> {
  const users = JSON.parse(await ctl.run(['list_users', '--quiet', '--formatter', 'json'])) as { user: string }[];
  return new Set(users.map((entry) => entry.user));
}

/** True when the virtual host exists. */
export async function vhostExists(ctl: Rabbitmqctl, vhost: string): Promise<boolean> {
  const vhosts = JSON.parse(await ctl.run(['list_vhosts', '--quiet', '--formatter', 'json'])) as { name: string }[];
  return vhosts.some((entry) => entry.name === vhost);
}

/** A fresh broker password: 24 random bytes, base64url (URL-safe, no quoting needed). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** Users set up at once by {@link applyPlan}. */
export const APPLY_CONCURRENCY = 4;

/** Options of {@link applyPlan}. */
export interface ApplyOptions {
  /** Give existing users a new password too (they keep theirs by default). */
  readonly resetPasswords?: boolean;
  /** Chosen passwords by user; others get {@link generatePassword}. */
  readonly passwords?: ReadonlyMap<string, string>;
  /** Create missing users; when false they are an error (their passwords would have nowhere to go). Default true. */
  readonly createUsers?: boolean;
  /** Called before each command, for progress output. */
  readonly onCommand?: (command: PlannedCommand) => void;
}

/** What {@link applyPlan} did. */
export interface ApplyResult {
  readonly created: readonly string[];
  /** Users whose password this run set (created or reset), with it. */
  readonly passwords: ReadonlyMap<string, string>;
  readonly commands: readonly PlannedCommand[];
}

/**
 * Applies a plan: creates missing users (password on stdin), sets each
 * user's permissions and topic permissions on the plan's vhost, replacing
 * what they had there ({@link APPLY_CONCURRENCY} users at a time). If a
 * command fails, the users already done stay done; run it again. Idempotent: applying the same plan again changes
 * nothing but (with `resetPasswords`) the passwords. FAILED_PRECONDITION when
 * the vhost does not exist (it is not created: a typo would make a new one).
 */
export async function applyPlan(
  plan: PermissionsPlan,
  ctl: Rabbitmqctl,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const [exists, existing] = await Promise.all([vhostExists(ctl, plan.vhost), listUsers(ctl)]);
  if (!exists) {
    throw new CliError(
      ExitCode.FAILED,
      Code.FAILED_PRECONDITION,
      `vhost ${JSON.stringify(plan.vhost)} does not exist; create it first (rabbitmqctl add_vhost ${plan.vhost})`,
    );
  }
  const created = plan.users.map((user) => user.user).filter((user) => !existing.has(user));
  if (created.length > 0 && options.createUsers === false) {
    throw new CliError(
      ExitCode.USAGE,
      Code.FAILED_PRECONDITION,
      `users ${created.join(', ')} do not exist yet; pass --env-out to create them and receive their passwords`,
      'permissions apply',
    );
  }
  const resets = new Set(
    options.resetPasswords ? plan.users.map((user) => user.user).filter((user) => existing.has(user)) : [],
  );
  const commands = planCommands(plan, new Set(created), resets);
  const passwords = new Map<string, string>();
  const run = async (command: PlannedCommand): Promise<void> => {
    options.onCommand?.(command);
    let input: string | undefined;
    if (command.passwordFor !== undefined) {
      const password = options.passwords?.get(command.passwordFor) ?? generatePassword();
      passwords.set(command.passwordFor, password);
      input = `${password}\n`;
    }
    await ctl.run(command.args, input);
  };
  // Each rabbitmqctl run starts an Erlang VM (a second or more): users are set up side by side,
  // each user's commands in order (the user exists before its permissions are set).
  const byUser = new Map<string, PlannedCommand[]>();
  for (const command of commands) {
    const user =
      command.args[0] === 'add_user' || command.args[0] === 'change_password' ? command.args[1]! : command.args[3]!;
    byUser.set(user, [...(byUser.get(user) ?? []), command]);
  }
  const queue = [...byUser.values()];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift())
      for (const command of next) await run(command);
  };
  await Promise.all(Array.from({ length: Math.min(APPLY_CONCURRENCY, queue.length) }, worker));
  return { created, passwords, commands };
}

/** `orders` → `ORDERS_AMQP_URL`; `shop-orders` → `SHOP_ORDERS_AMQP_URL`. */
export function urlVariable(user: string): string {
  return `${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_AMQP_URL`;
}

/** `baseUrl` with the user's credentials and the vhost. */
export function userUrl(baseUrl: string, vhost: string, user: string, password: string): string {
  // a cluster's node list (AMQP_URL's comma-separated form) gets the user on every node
  return brokerUrls(baseUrl)
    .map((node) => {
      const url = new URL(node);
      url.username = encodeURIComponent(user);
      url.password = encodeURIComponent(password);
      url.pathname = `/${encodeURIComponent(vhost)}`;
      return url.toString();
    })
    .join(',');
}

/** The vhost of a broker URL, or of a cluster's first node (`/` when it names none or cannot be read). */
export function vhostOf(url: string): string {
  try {
    const path = new URL(brokerUrls(url)[0] ?? url).pathname;
    return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
  } catch {
    return '/';
  }
}

/**
 * An env file (`KEY=value` lines, `source`-able) with one broker URL per user
 * whose password is known, named by {@link urlVariable} of the name rules use
 * (`orders` → `ORDERS_AMQP_URL`, whatever the prefix): the example services
 * read `<NAME>_AMQP_URL` before `AMQP_URL`, and `WARREN_USER_PREFIX`.
 */
export function envFileText(plan: PermissionsPlan, passwords: ReadonlyMap<string, string>, baseUrl: string): string {
  const lines = [`# broker users of vhost ${plan.vhost}, written by warren permissions apply; keep this file private`];
  for (const user of plan.users) {
    const password = passwords.get(user.user);
    if (password !== undefined)
      lines.push(`${urlVariable(user.principal)}=${userUrl(baseUrl, plan.vhost, user.user, password)}`);
  }
  if (plan.userPrefix !== '') lines.push(`WARREN_USER_PREFIX=${plan.userPrefix}`);
  return `${lines.join('\n')}\n`;
}
