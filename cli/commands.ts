import type { Command, CommandInput, OptionSpecs } from './command.js';
import { permissionsApply, permissionsPlan } from './permissions-commands.js';

/**
 * Every `warren` command: its name, help and flags. Implementations live in
 * one module per command, loaded when the command runs.
 */

const URL_OPTION = {
  url: {
    type: 'string',
    valueName: '<amqp-url>',
    description: 'Broker URL. Default: $AMQP_URL, else amqp://guest:guest@127.0.0.1:5672.',
  },
  ca: {
    type: 'string',
    valueName: '<pem-file>',
    description:
      "CA certificate(s) the broker's TLS certificate must chain to (amqps:// URLs). Default: $AMQP_CA_FILE, else the system CAs.",
  },
  cert: {
    type: 'string',
    valueName: '<pem-file>',
    description: 'Client certificate for brokers that verify peers. Default: $AMQP_CERT_FILE.',
  },
  key: {
    type: 'string',
    valueName: '<pem-file>',
    description: 'Private key of --cert. Default: $AMQP_KEY_FILE ($AMQP_KEY_PASSPHRASE if encrypted).',
  },
} as const satisfies OptionSpecs;

const PROTO_OPTION = {
  proto: {
    type: 'string',
    valueName: '<dir>',
    description: 'Directory of the .proto contracts (imports resolve from it). Default: ./proto.',
  },
} as const satisfies OptionSpecs;

const COMMON_OPTIONS = {
  json: {
    type: 'boolean',
    description: 'Machine-readable output: JSON on stdout (one document per line), errors as JSON on stderr.',
  },
  help: { type: 'boolean', short: 'h', description: 'Show this help and exit.' },
} as const satisfies OptionSpecs;

const TIMEOUT_OPTION = {
  timeout: {
    type: 'string',
    valueName: '<duration>',
    description: 'Deadline, with a unit: 500ms, 2s, 1m. Default 10s.',
  },
} as const satisfies OptionSpecs;

const EXIT_CODES = 'Exit codes: 0 ok, 2 bad usage or input, 10+code when the broker fails (24 UNAVAILABLE).';

const CALL_OPTIONS = {
  ...TIMEOUT_OPTION,
  header: {
    type: 'string',
    short: 'H',
    multiple: true,
    valueName: '<key:value>',
    description: 'Metadata sent with the call (keys are lower-cased).',
  },
  verbose: {
    type: 'boolean',
    short: 'v',
    description: 'Also print the method, deadline, reply metadata and time taken on stderr.',
  },
  ...URL_OPTION,
  ...PROTO_OPTION,
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

export const call: Command<typeof CALL_OPTIONS> = {
  name: 'call',
  summary: 'Call a method of a live service, with a JSON request mapped through the protos.',
  usage: '<pkg.Service/Method> [<json> | -] [flags]',
  details: `
The request is proto3 JSON (int64 as strings, enums by name, bytes as base64),
checked strictly against the request message: an unknown field or a wrong type
is refused before anything is sent. Give '-' to read it from stdin; omit it
for an empty request. The reply is printed as pretty JSON on stdout.

Exit codes: 0 OK; 2 bad usage or input (unknown method, bad JSON); 10 + the
status code when the call fails (14 DEADLINE_EXCEEDED, 22 UNIMPLEMENTED,
24 UNAVAILABLE: no server has ever declared the service's queue); 130 Ctrl-C.`,
  positionals: [1, 2],
  options: CALL_OPTIONS,
  examples: [
    `warren call warren.test.v1.TestService/Echo '{"text": "hi", "number": "42"}'`,
    `echo '{"millis": 100}' | warren call TestService/Sleep - --timeout 2s -H tenant:acme`,
  ],
  load: () => import('./call.js'),
};

const LIST_OPTIONS = { ...URL_OPTION, ...PROTO_OPTION, ...COMMON_OPTIONS } as const satisfies OptionSpecs;

export const list: Command<typeof LIST_OPTIONS> = {
  name: 'list',
  summary: 'List every service in the protos with its methods and whether it is live now.',
  usage: '[flags]',
  details: `
Each service's queue (rpc.<pkg.Service>) is declared passively, which changes
nothing: "live" has at least one consumer, "down" has a queue but no consumer
(requests wait there until their deadline), "absent" means no server ever
declared it (calls fail at once with UNAVAILABLE). The health service is
built in: every server answers it on its own queues.

${EXIT_CODES}`,
  positionals: [0, 0],
  options: LIST_OPTIONS,
  examples: ['warren list', 'warren list --json | jq -r \'.services[] | select(.status != "live") | .name\''],
  load: () => import('./list.js'),
};

const HEALTH_OPTIONS = {
  timeout: {
    type: 'string',
    valueName: '<duration>',
    description: 'How long to wait for each answer, with a unit. Default 5s.',
  },
  ...URL_OPTION,
  ...PROTO_OPTION,
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

export const health: Command<typeof HEALTH_OPTIONS> = {
  name: 'health',
  summary: 'Ask services for their health (warren.health.v1, modelled on grpc.health.v1).',
  usage: '[<pkg.Service>...] [flags]',
  details: `
Sends warren.health.v1.HealthService/Check to each service's own queue; the
live instance that takes it answers SERVING, or NOT_SERVING while it drains.
Without arguments, every service in the protos is checked. A service named
on the command line needs no proto.

Exit codes: 0 all SERVING; else that of the first service not SERVING: 1 an
instance answered NOT_SERVING or SERVICE_UNKNOWN; 14 DEADLINE_EXCEEDED: a
queue but no instance answered in time; 24 UNAVAILABLE: no queue, never
started; 2 usage.
Usable as a container health check: warren health my.pkg.MyService --timeout 2s`,
  positionals: [0, Number.POSITIVE_INFINITY],
  options: HEALTH_OPTIONS,
  examples: ['warren health', 'warren health warren.test.v1.TestService --timeout 1s'],
  load: () => import('./health.js'),
};

const DESCRIBE_OPTIONS = { ...PROTO_OPTION, ...COMMON_OPTIONS } as const satisfies OptionSpecs;

export const describe: Command<typeof DESCRIBE_OPTIONS> = {
  name: 'describe',
  summary: 'Show a contract: a service, a method, a message or an enum.',
  usage: '<service | pkg.Service/Method | message | enum> [flags]',
  details: `
Services show their methods with idempotency and HTTP routes; methods show
their request and response messages; messages show their fields with types,
numbers and JSON names. Names may be full (warren.test.v1.EchoRequest) or
short when unique (EchoRequest, TestService/Echo).

Exit codes: 0 found; 2 not found or bad protos.`,
  positionals: [1, 1],
  options: DESCRIBE_OPTIONS,
  examples: [
    'warren describe warren.test.v1.TestService',
    'warren describe TestService/Echo',
    'warren describe EchoRequest --json',
  ],
  load: () => import('./describe.js'),
};

const EVENTS_TAIL_OPTIONS = {
  count: {
    type: 'string',
    short: 'n',
    valueName: '<n>',
    description: 'Stop after this many events. Default: run until Ctrl-C.',
  },
  ...URL_OPTION,
  ...PROTO_OPTION,
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

export const eventsTail: Command<typeof EVENTS_TAIL_OPTIONS> = {
  name: 'events tail',
  summary: 'Print events as they are published, decoded to JSON, until Ctrl-C.',
  usage: '[<pattern>] [flags]',
  details: `
Attaches a temporary queue (exclusive, auto-delete) to the events exchange,
bound with the pattern: an event type (warren.test.v1.OrderCreated) or a
topic pattern where * is one word and # any words. Default: # (everything).
Bodies are decoded with the protos; an event of a type they lack is shown
with its size. Nothing is taken from other subscribers: they get their own
copies. Under --json each event is one JSON line.

A lost broker connection is reported on stderr and the tail goes on once the
transport has reconnected (events published meanwhile are missed).

Exit codes: 0 stopped by Ctrl-C or after --count events; 24 UNAVAILABLE when
the broker cannot be reached; 2 usage.`,
  positionals: [0, 1],
  options: EVENTS_TAIL_OPTIONS,
  examples: ['warren events tail', "warren events tail 'warren.test.v1.*' --json"],
  load: () => import('./events-tail.js'),
};

const DLQ_DETAILS = `
The argument names whose dead letters: an event group (no dots: billing)
holds events its handlers failed on for good (a non-retryable error, or
every attempt used) in events.<group>.dead; a service (package.Service)
holds the poison requests its servers took out of service (they kept
killing the instances that took them) in rpc.<package.Service>.dead. The
queue names themselves are accepted too.

Dead letters are read by fetching them unacknowledged and putting them back
in place: warren processes take turns on one queue (a lock), so each sees
all of it; one that waits says so on stderr.`;

const DLQ_LIST_OPTIONS = {
  limit: { type: 'string', valueName: '<n>', description: 'Most dead letters to read. Default 100.' },
  ...URL_OPTION,
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

export const dlqList: Command<typeof DLQ_LIST_OPTIONS> = {
  name: 'dlq list',
  summary: "List a group's dead letters or a service's poison requests, oldest first, without removing them.",
  usage: '<group | pkg.Service> [flags]',
  details: `${DLQ_DETAILS}

For a service: message id, method, deliveries, the original caller (its
broker user), when it was dead-lettered, and why.

Exit codes: 0 ok (also when there are none); 15 NOT_FOUND when no
subscriber of the group (no server of the service) ever declared the queue;
20 ABORTED when another warren process kept the queue for over 30s; 24
UNAVAILABLE; 2 usage.`,
  positionals: [1, 1],
  options: DLQ_LIST_OPTIONS,
  examples: ['warren dlq list billing', 'warren dlq list warren.test.v1.TestService --json'],
  load: async () => ({ run: (await import('./dlq.js')).runList }),
};

const DLQ_SHOW_OPTIONS = {
  limit: { type: 'string', valueName: '<n>', description: 'Most dead letters to read. Default 100.' },
  ...URL_OPTION,
  ...PROTO_OPTION,
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

export const dlqShow: Command<typeof DLQ_SHOW_OPTIONS> = {
  name: 'dlq show',
  summary: 'Show dead letters in full: reason, attempts, metadata and the event or request decoded.',
  usage: '<group | pkg.Service> [<message-id>] [flags]',
  details: `${DLQ_DETAILS}

With a message id only that dead letter is shown (among the first --limit).
A service's poison requests show their method (and whether it is
idempotent), caller, deliveries, times sent, due and dead-lettered, and the
request decoded with the protos (raw base64 when they lack the method).

Exit codes: 0 ok; 15 NOT_FOUND for an unknown group, service or message
id; 24 UNAVAILABLE; 2 usage.`,
  positionals: [1, 2],
  options: DLQ_SHOW_OPTIONS,
  examples: [
    'warren dlq show billing',
    'warren dlq show billing 5d0c1f9e-... --json',
    'warren dlq show warren.test.v1.TestService 5d0c1f9e-...',
  ],
  load: async () => ({ run: (await import('./dlq.js')).runShow }),
};

const DLQ_REPLAY_OPTIONS = {
  limit: {
    type: 'string',
    valueName: '<n>',
    description: 'Most dead letters to replay (a group, or a service with --all). Default: all.',
  },
  id: {
    type: 'string',
    multiple: true,
    valueName: '<message-id>',
    description: 'Service only: replay the poison request with this message id.',
  },
  all: { type: 'boolean', description: 'Service only: replay every poison request (a service needs --id or --all).' },
  force: { type: 'boolean', description: 'Service only: also replay requests of methods that are not idempotent.' },
  timeout: {
    type: 'string',
    valueName: '<duration>',
    description: 'Service only: deadline of each replayed request, with a unit. Default 10s.',
  },
  ...URL_OPTION,
  ...PROTO_OPTION,
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

export const dlqReplay: Command<typeof DLQ_REPLAY_OPTIONS> = {
  name: 'dlq replay',
  summary: "Replay dead letters: a group's back to their queue, a service's requests as new calls.",
  usage: '<group | pkg.Service> [flags]',
  details: `${DLQ_DETAILS}

A group's dead letters are copied back to their queue with a fresh attempt
count (confirmed by the broker) before they are removed, so an interruption
loses nothing; one whose queue no longer exists stays dead.

A service's poison requests cannot go back to their caller, which has given
up long ago: each chosen one (--id, or --all) is sent again as a new call
from this CLI, with the same method, body, metadata and message id, a fresh
deadline (--timeout) and this CLI as the caller, one at a time, each outcome
printed as it comes. Methods not marked idempotent in the protos are refused
without --force (the request may have partly run before its instance died:
running it again is your decision). A request the service answered is
removed, whatever the status, except UNAVAILABLE or RESOURCE_EXHAUSTED (not
processed); one without an answer (deadline, no queue) is kept. A request
that kills instances again is dead-lettered again by the servers, as a new
dead letter.

Exit codes: 0 ok (a service: every replay answered OK); 10 + the status of
the first replay not answered OK; 2 usage, an unknown service, or
non-idempotent requests without --force (nothing sent); 15 NOT_FOUND for an
unknown group, dead-letter queue or message id; 24 UNAVAILABLE; 130 Ctrl-C.`,
  positionals: [1, 1],
  options: DLQ_REPLAY_OPTIONS,
  examples: [
    'warren dlq replay billing',
    'warren dlq replay billing --limit 10 --json',
    'warren dlq replay warren.test.v1.TestService --id 5d0c1f9e-...',
    'warren dlq replay warren.test.v1.TestService --all --force --timeout 30s',
  ],
  load: async () => ({ run: (await import('./dlq.js')).runReplay }),
};

const GENERATE_OPTIONS = {
  root: {
    type: 'string',
    valueName: '<dir>',
    description: 'The buf workspace (buf.yaml, buf.gen.yaml). Default: the current directory.',
  },
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

export const generate: Command<typeof GENERATE_OPTIONS> = {
  name: 'generate',
  summary: 'Lint the protos and generate TypeScript (buf lint, then buf generate).',
  usage: '[flags]',
  details: `
Runs buf from node_modules in the workspace directory (the one with buf.yaml
and buf.gen.yaml): first buf lint, which also compiles, so nothing is
generated from protos that do not compile or fail lint; then buf generate.
Problems are listed as file:line:column with the rule broken.

Exit codes: 0 generated; 1 a proto does not compile, fails lint, or buf
generate failed; 2 usage or no workspace there.`,
  positionals: [0, 0],
  options: GENERATE_OPTIONS,
  examples: ['warren generate', 'warren generate --root ../other-service'],
  load: () => import('./generate.js'),
};

const INIT_OPTIONS = { ...COMMON_OPTIONS } as const satisfies OptionSpecs;

export const init: Command<typeof INIT_OPTIONS> = {
  name: 'init',
  summary: 'Create a new service project: a proto with an HTTP route, a server, a typed client, a test.',
  usage: '<dir>',
  details: `
Writes into <dir> (new or empty): package.json depending on warren,
buf.yaml and buf.gen.yaml with the ts-proto options Warren needs, one
example .proto with a google.api.http route, the server (runService), a
typed client call, a test on the memory transport, and a README. Then:
npm install && npm run generate && npm test.

'warren gateway --proto-dir <dir>' runs the HTTP gateway in front of it.

Exit codes: 0 created; 2 usage, or <dir> is not empty.`,
  positionals: [1, 1],
  options: INIT_OPTIONS,
  examples: ['warren init my-service'],
  load: () => import('./init.js'),
};

/** Every command, in help order. */
export const COMMANDS: readonly Command<any>[] = [
  call,
  list,
  health,
  describe,
  eventsTail,
  dlqList,
  dlqShow,
  dlqReplay,
  generate,
  init,
  permissionsPlan,
  permissionsApply,
];

/** Input of each command's implementation. */
export type CallInput = CommandInput<typeof CALL_OPTIONS>;
export type ListInput = CommandInput<typeof LIST_OPTIONS>;
export type InitInput = CommandInput<typeof INIT_OPTIONS>;
export type HealthInput = CommandInput<typeof HEALTH_OPTIONS>;
export type DescribeInput = CommandInput<typeof DESCRIBE_OPTIONS>;
export type EventsTailInput = CommandInput<typeof EVENTS_TAIL_OPTIONS>;
export type DlqListInput = CommandInput<typeof DLQ_LIST_OPTIONS>;
export type DlqShowInput = CommandInput<typeof DLQ_SHOW_OPTIONS>;
export type DlqReplayInput = CommandInput<typeof DLQ_REPLAY_OPTIONS>;
export type GenerateInput = CommandInput<typeof GENERATE_OPTIONS>;
