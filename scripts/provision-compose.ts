/**
 * docker-compose's `provision` service: what `npm start` does with
 * rabbitmqctl (./provision-users.ts), done over the broker's management HTTP
 * API instead, since the containers share no Erlang cookie. It plans
 * services/permissions.json as `warren permissions apply` does, creates or
 * updates every user with a fresh random password and its permissions and
 * topic permissions, and writes their URLs to `WARREN_BROKER_USERS_FILE`
 * (mode 0600, on a volume only the shop's containers mount), which the
 * services and the gateway read at start. Exits 0 when done, 1 with the
 * broker's answer otherwise.
 *
 * Env: `RABBITMQ_API` (default http://rabbitmq:15672), `RABBITMQ_ADMIN`
 * (`user:password`, default guest:guest), `AMQP_URL` (the base of the
 * written URLs), `WARREN_BROKER_USERS_FILE` (required).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadContracts } from '../cli/contracts.js';
import { envFileText, generatePassword } from '../cli/permissions-apply.js';
import { readPermissionsConfig } from '../cli/permissions-config.js';
import { contractAccess, planPermissions } from '../cli/permissions-plan.js';
import { EVENTS_EXCHANGE } from '../core/protocol/index.js';
import { vhostOf } from '../cli/permissions-apply.js';

const root = new URL('..', import.meta.url).pathname;
const api = (process.env['RABBITMQ_API'] ?? 'http://rabbitmq:15672').replace(/\/$/, '');
const auth = `Basic ${Buffer.from(process.env['RABBITMQ_ADMIN'] ?? 'guest:guest').toString('base64')}`;
const baseUrl = process.env['AMQP_URL'] ?? 'amqp://guest:guest@rabbitmq:5672';
const out = process.env['WARREN_BROKER_USERS_FILE'];
if (!out) {
  console.error("provision: WARREN_BROKER_USERS_FILE must name the file to write the users' URLs to");
  process.exit(1);
}

async function put(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${api}/api/${path}`, {
    method: 'PUT',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`PUT /api/${path}: ${response.status} ${await response.text()}`);
}

const config = readPermissionsConfig(join(root, 'services', 'permissions.json'), 'provision');
const vhost = vhostOf(baseUrl);
const plan = planPermissions(
  config,
  contractAccess(await loadContracts(join(root, 'proto'), 'provision')),
  vhost,
  config.userPrefix ?? '',
);
const passwords = new Map<string, string>();
const v = encodeURIComponent(vhost);
for (const user of plan.users) {
  const password = generatePassword();
  const u = encodeURIComponent(user.user);
  await put(`users/${u}`, { password, tags: '' });
  await put(`permissions/${v}/${u}`, { configure: user.configure, write: user.write, read: user.read });
  await put(`topic-permissions/${v}/${u}`, { exchange: EVENTS_EXCHANGE, write: user.topicWrite, read: user.topicRead });
  passwords.set(user.user, password);
}
writeFileSync(out, envFileText(plan, passwords, baseUrl), { mode: 0o600 });
console.log(`provisioned ${plan.users.map((user) => user.user).join(', ')} on vhost ${vhost}; URLs in ${out}`);
