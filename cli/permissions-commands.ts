import type { Command, CommandInput, OptionSpecs } from './command.js';

/**
 * `warren permissions plan|apply`: help and flags (registered in
 * commands.ts). Implementations in permissions.ts.
 */

const PERMISSIONS_OPTIONS = {
  vhost: {
    type: 'string',
    valueName: '<vhost>',
    description: 'Virtual host. Default: the config\'s "vhost", else the --url\'s, else /.',
  },
  url: {
    type: 'string',
    valueName: '<amqp-url>',
    description:
      'Broker URL: its vhost is the default, and apply writes its host into --env-out. Default: $AMQP_URL, else amqp://guest:guest@127.0.0.1:5672.',
  },
  'user-prefix': {
    type: 'string',
    valueName: '<prefix>',
    description:
      'Prefix of the broker user names (staging- makes orders the user staging-orders). Default: the config\'s "userPrefix", else none.',
  },
  proto: {
    type: 'string',
    valueName: '<dir>',
    description: 'Directory of the .proto contracts (their access options are read). Default: ./proto.',
  },
  json: { type: 'boolean', description: 'Machine-readable output: JSON on stdout, errors as JSON on stderr.' },
  help: { type: 'boolean', short: 'h', description: 'Show this help and exit.' },
} as const satisfies OptionSpecs;

const DETAILS = `
The config (JSON) lists one broker user per service, plus pure callers such
as the gateway, and what each does:

  {"users": {"payments": {"serves": ["shop.payments.v1.PaymentService"]},
             "orders": {"serves": ["shop.orders.v1.OrderService"]},
             "notifications": {"subscribes": {"notifications": ["shop.orders.v1.*"]}},
             "gateway": {"calls": ["*"]}}}

The protos add to it: a user named in a method's (warren.access.v1.method)
callers calls that service; one named in a message's (warren.access.v1.event)
publishers publishes it, and nobody else may. Each user gets the narrowest
configure/write/read regexps that still let it serve, call, publish and
subscribe as declared, and topic permissions on warren.events: it may publish
only its own event types and bind only its declared patterns. Per-method
access is enforced by the servers (createAccessPolicy), not by the broker.`;

const PLAN_OPTIONS = PERMISSIONS_OPTIONS;

/** `warren permissions plan <config>`: prints the plan, changes nothing. */
export const permissionsPlan: Command<typeof PLAN_OPTIONS> = {
  name: 'permissions plan',
  summary: 'Show the broker users, permissions and rabbitmqctl commands a permissions config needs; changes nothing.',
  usage: '<config.json> [flags]',
  details: `${DETAILS}

Exit codes: 0 planned; 2 bad config, unknown service or event, or a config
that gives an event to a publisher its proto option does not list.`,
  positionals: [1, 1],
  options: PLAN_OPTIONS,
  examples: [
    'warren permissions plan services/permissions.json',
    'warren permissions plan services/permissions.json --vhost shop --json',
  ],
  load: async () => ({ run: (await import('./permissions.js')).runPlan }),
};

// Not --env-file: Node 20 takes that flag for itself wherever it appears on the command line.
const APPLY_OPTIONS = {
  'env-out': {
    type: 'string',
    valueName: '<path>',
    description: 'Write <USER>_AMQP_URL=… lines with the passwords this run set (mode 0600). Needed to create users.',
  },
  'reset-passwords': { type: 'boolean', description: 'Give existing users new passwords too (written to --env-out).' },
  ...PERMISSIONS_OPTIONS,
} as const satisfies OptionSpecs;

/** `warren permissions apply <config>`: creates the users and sets their permissions. */
export const permissionsApply: Command<typeof APPLY_OPTIONS> = {
  name: 'permissions apply',
  summary: 'Create the broker users of a permissions config and set their permissions (runs rabbitmqctl).',
  usage: '<config.json> --env-out <path> [flags]',
  details: `${DETAILS}

apply runs rabbitmqctl (RABBITMQCTL, else the one on PATH), so run it where
the broker runs, as root or rabbitmq. Missing users are created with random
passwords, written only to --env-out; existing users keep their password
unless --reset-passwords. Permissions and topic permissions on the vhost are
replaced by the plan's. The vhost must exist. The example services read
<NAME>_AMQP_URL before AMQP_URL, and the gateway AMQP_URL, so:
set -a; . ./shop-users.env; set +a; AMQP_URL=$GATEWAY_AMQP_URL npm start

Exit codes: 0 applied; 1 rabbitmqctl failed or the vhost does not exist;
2 bad config, or users to create without --env-out.`,
  positionals: [1, 1],
  options: APPLY_OPTIONS,
  examples: [
    'warren permissions apply services/permissions.json --env-out shop-users.env',
    'warren permissions apply services/permissions.json --vhost shop --user-prefix staging- --env-out staging.env',
  ],
  load: async () => ({ run: (await import('./permissions.js')).runApply }),
};

/** Input of `permissions plan`. */
export type PermissionsPlanInput = CommandInput<typeof PLAN_OPTIONS>;
/** Input of `permissions apply`. */
export type PermissionsApplyInput = CommandInput<typeof APPLY_OPTIONS>;
