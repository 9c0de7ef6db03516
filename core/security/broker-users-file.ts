import { readFileSync } from 'node:fs';

/**
 * Reads the env file `warren permissions apply --env-out` (and docker-compose's
 * `provision` service) writes — `KEY=value` lines, `#` comments — so a
 * process can take its own broker URL (`<NAME>_AMQP_URL`) from the file named
 * by `WARREN_BROKER_USERS_FILE` without a shell sourcing it first. Throws
 * naming the file when it cannot be read.
 */
export function readBrokerUsersFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`WARREN_BROKER_USERS_FILE=${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (line.startsWith('#') || at <= 0) continue;
    values[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return values;
}

/**
 * The broker URL of `principal` (`orders`, `gateway`): `<NAME>_AMQP_URL` from
 * the environment, else from the file named by `WARREN_BROKER_USERS_FILE`,
 * else undefined.
 */
export function ownBrokerUrl(principal: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = `${principal.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_AMQP_URL`;
  if (env[key]) return env[key];
  const file = env['WARREN_BROKER_USERS_FILE']?.trim();
  return file ? readBrokerUsersFile(file)[key] || undefined : undefined;
}
