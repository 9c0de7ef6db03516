/**
 * What `npm start` does before it starts the mesh, unless asked for the open
 * development mode by name (`WARREN_INSECURE_GUEST=1`): `warren permissions
 * apply services/permissions.json` — one broker user per service and one for
 * the gateway, each with the narrowest permissions its role needs (see
 * cli/permissions-plan.ts) — with fresh random passwords on every start,
 * kept in memory and handed to each child as its own broker URL. The
 * provisioning itself runs `rabbitmqctl` (where the broker runs, as the
 * local broker's admin), so no password is written anywhere.
 */
import { join } from 'node:path';
import { loadContracts } from '../cli/contracts.js';
import { applyPlan, createRabbitmqctl, userUrl, vhostOf } from '../cli/permissions-apply.js';
import { readPermissionsConfig } from '../cli/permissions-config.js';
import { contractAccess, planPermissions } from '../cli/permissions-plan.js';

/** The broker URL of each principal (`orders`, …, `gateway`), and the config they came from. */
export interface ProvisionedUsers {
  readonly urls: ReadonlyMap<string, string>;
  readonly configPath: string;
  readonly userPrefix: string;
}

/**
 * Applies the shop's permissions config to the broker of `baseUrl` (its
 * vhost) and returns each user's URL. Throws with rabbitmqctl's own message
 * when it cannot (not installed here, no access to the node).
 */
export async function provisionShopUsers(root: string, baseUrl: string): Promise<ProvisionedUsers> {
  const configPath = join(root, 'services', 'permissions.json');
  const config = readPermissionsConfig(configPath, 'npm start');
  const contracts = await loadContracts(join(root, 'proto'), 'npm start');
  const userPrefix = config.userPrefix ?? '';
  const vhost = vhostOf(baseUrl);
  const plan = planPermissions(config, contractAccess(contracts), vhost, userPrefix);
  const applied = await applyPlan(plan, createRabbitmqctl(), { resetPasswords: true, createUsers: true });
  const urls = new Map<string, string>();
  for (const user of plan.users) {
    const password = applied.passwords.get(user.user);
    if (password !== undefined) urls.set(user.principal, userUrl(baseUrl, vhost, user.user, password));
  }
  return { urls, configPath, userPrefix };
}
