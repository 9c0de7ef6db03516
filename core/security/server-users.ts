import { readFileSync } from 'node:fs';

/**
 * Who serves which service, derived from the permissions config that
 * `warren permissions apply` provisions broker users from, so that clients
 * can check the broker-validated `user_id` of every reply without each
 * caller configuring it (see `connectAmqp({ serverUsers })`).
 *
 * The convention is `warren permissions`' own: the config's key `payments`
 * with `serves: ["shop.payments.v1.PaymentService"]` is the broker user
 * `<userPrefix>payments`, and only that user can read the service's queue,
 * so only it can answer its requests.
 */

/** The part of a permissions config (services/permissions.json) read here. */
export interface ServingConfig {
  readonly users: Readonly<Record<string, { readonly serves?: readonly string[] }>>;
}

/**
 * A `serverUsers` function for `connectAmqp`: the expected broker user of a
 * service named in the config (`userPrefix` + its key), `undefined` for
 * services the config does not know (their replies are not checked). A
 * service listed under several users has no single expected user and is not
 * checked either (`warren permissions` warns about such configs).
 */
export function serverUsersFromConfig(config: ServingConfig, userPrefix = ''): (service: string) => string | undefined {
  const owners = new Map<string, string | null>();
  for (const [user, entry] of Object.entries(config.users)) {
    for (const service of entry.serves ?? []) owners.set(service, owners.has(service) ? null : `${userPrefix}${user}`);
  }
  return (service) => owners.get(service) ?? undefined;
}

/**
 * {@link serverUsersFromConfig} of the config named by `WARREN_PERMISSIONS_FILE`
 * (with `WARREN_USER_PREFIX`), which `npm start` and docker-compose set when
 * each process has its own broker user; `undefined` when it is not set
 * (replies not checked: the shared-user development mode). Throws naming the
 * variable when the file cannot be read.
 */
export function serverUsersFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ((service: string) => string | undefined) | undefined {
  const file = env['WARREN_PERMISSIONS_FILE']?.trim();
  if (!file) return undefined;
  let config: ServingConfig;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as ServingConfig;
  } catch (error) {
    throw new Error(
      `WARREN_PERMISSIONS_FILE=${file} cannot be read as a permissions config: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (typeof config?.users !== 'object' || config.users === null)
    throw new Error(`WARREN_PERMISSIONS_FILE=${file} has no "users" object`);
  return serverUsersFromConfig(config, env['WARREN_USER_PREFIX'] ?? '');
}
