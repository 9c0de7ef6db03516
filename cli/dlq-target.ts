import { Code } from '../core/index.js';
import { groupDeadLetterQueue, validateGroup } from '../core/protocol/index.js';
import { serviceDeadLetterQueue } from '../core/protocol/index.js';
import { CliError, ExitCode, inputError } from './exit-codes.js';

/** Whose dead letters a `dlq` command works on. */
export type DlqTarget =
  /** An event group's: events its handlers failed on for good, in `events.<group>.dead`. */
  | { readonly kind: 'group'; readonly group: string; readonly queue: string }
  /** A service's poison requests, parked by its servers in `rpc.<service>.dead`. */
  | { readonly kind: 'service'; readonly service: string; readonly queue: string };

const SERVICE_NAME = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

/**
 * Reads the argument of `dlq list|show|replay`. Event group names cannot
 * contain dots and service names are `package.Service`, so a name with a dot
 * is a service and one without is a group; the dead-letter queue names
 * themselves are taken too (`rpc.<service>.dead` for a service without a
 * package, `events.<group>.dead`), as `warren list` and the messages print
 * them. A name that is neither is a usage error (exit 2).
 */
export function parseDlqTarget(name: string, command: string): DlqTarget {
  const rpc = /^rpc\.(.+)\.dead$/.exec(name);
  const events = /^events\.([^.]+)\.dead$/.exec(name);
  const service = rpc?.[1] ?? (events === null && name.includes('.') ? name : undefined);
  if (service !== undefined) {
    if (!SERVICE_NAME.test(service)) {
      throw new CliError(
        ExitCode.USAGE,
        Code.INVALID_ARGUMENT,
        `${JSON.stringify(service)} is not a service name (package.Service) nor an event group`,
        command,
      );
    }
    return { kind: 'service', service, queue: serviceDeadLetterQueue(service) };
  }
  const group = events?.[1] ?? name;
  try {
    validateGroup(group);
  } catch (error) {
    throw inputError(error, command);
  }
  return { kind: 'group', group, queue: groupDeadLetterQueue(group) };
}
