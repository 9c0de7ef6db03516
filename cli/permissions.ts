import { writeFileSync } from 'node:fs';
import { Code } from '../core/index.js';
import { brokerUrl } from './broker.js';
import type { PermissionsApplyInput, PermissionsPlanInput } from './permissions-commands.js';
import { loadContracts } from './contracts.js';
import { CliError, ExitCode, inputError } from './exit-codes.js';
import { formatTable, type Output } from './output.js';
import { applyPlan, createRabbitmqctl, envFileText, urlVariable, vhostOf } from './permissions-apply.js';
import { isUserPrefix, readPermissionsConfig, USER_NAME } from './permissions-config.js';
import { contractAccess, planCommands, planPermissions, shellLine, type PermissionsPlan } from './permissions-plan.js';

/** Loads the config and the protos and plans; usage errors (exit 2) for a bad config or one that contradicts the protos. */
async function plan(
  configPath: string,
  values: {
    proto?: string | undefined;
    vhost?: string | undefined;
    url?: string | undefined;
    'user-prefix'?: string | undefined;
  },
  command: string,
): Promise<PermissionsPlan> {
  const config = readPermissionsConfig(configPath, command);
  const userPrefix = values['user-prefix'];
  if (userPrefix !== undefined && !isUserPrefix(userPrefix))
    throw new CliError(
      ExitCode.USAGE,
      Code.INVALID_ARGUMENT,
      `--user-prefix must be empty or match ${USER_NAME.source}`,
      command,
    );
  const contracts = await loadContracts(values.proto, command);
  const vhost = values.vhost ?? config.vhost ?? vhostOf(brokerUrl(values.url));
  try {
    return planPermissions(config, contractAccess(contracts), vhost, userPrefix ?? config.userPrefix ?? '');
  } catch (error) {
    throw inputError(new Error(`${configPath}: ${(error as Error).message}`), command);
  }
}

/** The vhost of a broker URL (`/` when it names none). */

function showPlan(out: Output, result: PermissionsPlan): void {
  out.line(`Broker permissions for vhost ${result.vhost}:`);
  for (const user of result.users) {
    out.line('');
    const roles = [
      user.serves.length > 0 ? `serves ${user.serves.join(', ')}` : '',
      user.calls.length > 0 ? `calls ${user.calls.join(', ')}` : '',
      user.publishes.length > 0 ? `publishes ${user.publishes.join(', ')}` : '',
      ...Object.entries(user.subscribes).map(([group, patterns]) => `group ${group} ← ${patterns.join(', ')}`),
    ].filter((role) => role !== '');
    out.line(`${user.user}: ${roles.join('; ') || 'nothing'}`);
    const rows = [
      ['  configure', user.configure],
      ['  write', user.write],
      ['  read', user.read],
      ['  topic write', `${user.topicWrite}   (routing keys it may publish on warren.events)`],
      ['  topic read', `${user.topicRead}   (binding keys it may bind on warren.events)`],
    ];
    for (const row of formatTable(rows)) out.line(row);
  }
  for (const warning of result.warnings) out.note(`warning: ${warning}`);
}

/** `warren permissions plan <config>`: prints the permissions and the rabbitmqctl commands; changes nothing. */
export async function runPlan({ positionals, values, out }: PermissionsPlanInput): Promise<number> {
  const result = await plan(positionals[0]!, values, 'permissions plan');
  const commands = planCommands(result, new Set(result.users.map((user) => user.user)));
  if (out.json) {
    out.value({
      ...result,
      commands: commands.map((command) => ({
        args: ['rabbitmqctl', ...command.args],
        passwordOnStdin: command.passwordFor !== undefined,
      })),
    });
    return ExitCode.OK;
  }
  showPlan(out, result);
  out.line('');
  out.line('Commands (warren permissions apply runs them; add_user only for users that do not exist yet):');
  for (const command of commands) out.line(shellLine(command));
  return ExitCode.OK;
}

/**
 * `warren permissions apply <config>`: creates missing users with random
 * passwords and sets everyone's permissions through rabbitmqctl. Passwords
 * are written only to `--env-out` (mode 0600), never printed; without it,
 * missing users are an error and existing ones keep their passwords.
 */
export async function runApply({ positionals, values, out }: PermissionsApplyInput): Promise<number> {
  const result = await plan(positionals[0]!, values, 'permissions apply');
  const envFile = values['env-out'];
  if (values['reset-passwords'] && envFile === undefined) {
    throw new CliError(
      ExitCode.USAGE,
      Code.INVALID_ARGUMENT,
      '--reset-passwords needs --env-out: the new passwords would be lost',
      'permissions apply',
    );
  }
  const applied = await applyPlan(result, createRabbitmqctl(), {
    resetPasswords: values['reset-passwords'] === true,
    createUsers: envFile !== undefined,
    onCommand: (command) => {
      if (!out.json) out.note(shellLine(command));
    },
  });
  if (envFile !== undefined)
    writeFileSync(envFile, envFileText(result, applied.passwords, brokerUrl(values.url)), { mode: 0o600 });
  if (out.json) {
    out.value({
      vhost: result.vhost,
      users: result.users.map((user) => user.user),
      created: applied.created,
      envFile: envFile ?? null,
      warnings: result.warnings,
    });
  } else {
    showPlan(out, result);
    out.line('');
    out.line(
      `Applied to vhost ${result.vhost}: ${result.users.length} users, ${applied.created.length} created (${applied.created.join(', ') || 'none'}).`,
    );
    const written = result.users.filter((user) => applied.passwords.has(user.user));
    if (envFile !== undefined && written.length > 0)
      out.line(
        `Credentials of ${written.map((user) => user.user).join(', ')} are in ${envFile} (${written.map((user) => urlVariable(user.principal)).join(', ')}).`,
      );
  }
  return ExitCode.OK;
}
