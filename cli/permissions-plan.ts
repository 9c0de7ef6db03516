import protobuf from 'protobufjs';
import { EVENTS_EXCHANGE, REPLY_QUEUE_PREFIX, topicMatches } from '../core/protocol/index.js';
import { ANY_CALLER } from '../core/index.js';
import type { Contracts } from './contracts.js';
import type { PermissionsConfig, UserConfig } from './permissions-config.js';
import { MESH_EXCHANGE } from '../core/protocol/index.js';

/**
 * What `warren permissions` grants each broker user: the narrowest
 * configure / write / read regular expressions (RabbitMQ matches them against
 * exchange and queue names) and topic permissions on `warren.events` (matched
 * against routing keys when publishing, and against binding keys when
 * binding a queue) that still let the user do what it declares. See
 * .tmp/docs/security-permissions.md for why each name is in each column.
 */
export interface UserPlan {
  /** The broker user: the prefix plus {@link principal}. */
  readonly user: string;
  /** The name access rules use (the config's key). */
  readonly principal: string;
  /** Effective roles: the config's plus what the protos' access options say. */
  readonly serves: readonly string[];
  readonly calls: readonly string[];
  readonly publishes: readonly string[];
  readonly subscribes: Readonly<Record<string, readonly string[]>>;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
  /** Topic permission on `warren.events`: routing keys it may publish. */
  readonly topicWrite: string;
  /** Topic permission on `warren.events`: binding keys it may bind. */
  readonly topicRead: string;
}

/** The plan for one virtual host. */
export interface PermissionsPlan {
  readonly vhost: string;
  readonly userPrefix: string;
  readonly users: readonly UserPlan[];
  /** Things worth a look that do not stop the plan (an access option naming an unknown user…). */
  readonly warnings: readonly string[];
}

/** What the contracts say about access: who calls what, who publishes what. */
export interface ContractAccess {
  readonly services: ReadonlySet<string>;
  /** `pkg.Service/Method` → the callers of its `(warren.access.v1.method)` option. */
  readonly methodCallers: ReadonlyMap<string, readonly string[]>;
  /** Every message's full name (event types are messages). */
  readonly messages: ReadonlySet<string>;
  /** Event type → the publishers of its `(warren.access.v1.event)` option. */
  readonly eventPublishers: ReadonlyMap<string, readonly string[]>;
}

/** Reads the access options of loaded contracts (protobufjs keeps custom options in `parsedOptions`). */
export function contractAccess(contracts: Contracts): ContractAccess {
  const services = new Set(contracts.services.map((service) => service.fullName));
  const methodCallers = new Map<string, readonly string[]>();
  const messages = new Set<string>();
  const eventPublishers = new Map<string, readonly string[]>();
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Service && services.has(nested.fullName.slice(1))) {
        for (const method of nested.methodsArray) {
          const callers = optionList(method.parsedOptions, '(warren.access.v1.method)', 'callers');
          if (callers) methodCallers.set(`${nested.fullName.slice(1)}/${method.name}`, callers);
        }
      }
      if (nested instanceof protobuf.Type) {
        const name = nested.fullName.slice(1);
        messages.add(name);
        const publishers = optionList(nested.parsedOptions, '(warren.access.v1.event)', 'publishers');
        if (publishers) eventPublishers.set(name, publishers);
      }
      if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(contracts.registry.root);
  return { services, methodCallers, messages, eventPublishers };
}

/**
 * Plans every user's permissions. Throws an Error naming the problem when
 * the config contradicts the contracts (an unknown service or event type, a
 * user publishing an event the protos give to others).
 */
export function planPermissions(
  config: PermissionsConfig,
  access: ContractAccess,
  vhost: string,
  userPrefix = config.userPrefix ?? '',
): PermissionsPlan {
  const warnings: string[] = [];
  const users = new Set(config.users.map((entry) => entry.user));
  for (const [method, callers] of access.methodCallers) {
    for (const caller of callers)
      if (caller !== ANY_CALLER && !users.has(caller))
        warnings.push(`${method} allows caller ${caller}, who is not in the config`);
  }
  for (const [type, publishers] of access.eventPublishers) {
    for (const publisher of publishers)
      if (!users.has(publisher)) warnings.push(`${type} allows publisher ${publisher}, who is not in the config`);
  }
  const plans = config.users.map((entry) => planUser(entry, access, warnings, userPrefix));
  const servedBy = new Map<string, string[]>();
  for (const plan of plans)
    for (const service of plan.serves) servedBy.set(service, [...(servedBy.get(service) ?? []), plan.user]);
  for (const [service, owners] of servedBy)
    if (owners.length > 1)
      warnings.push(`${service} is served by several users (${owners.join(', ')}): each can read the others' requests`);
  return { vhost, userPrefix, users: plans, warnings };
}

function planUser(entry: UserConfig, access: ContractAccess, warnings: string[], userPrefix: string): UserPlan {
  const { user } = entry;
  for (const service of [...entry.serves, ...entry.calls.filter((name) => name !== '*')]) {
    if (!access.services.has(service)) throw new Error(`users.${user}: no service ${service} in the protos`);
  }
  const calls = new Set(entry.calls);
  for (const [method, callers] of access.methodCallers)
    if (callers.includes(user)) calls.add(method.slice(0, method.indexOf('/')));
  const publishes = new Set(entry.publishes);
  for (const [type, publishers] of access.eventPublishers) if (publishers.includes(user)) publishes.add(type);
  for (const type of publishes) {
    if (!access.messages.has(type)) throw new Error(`users.${user}.publishes: no message ${type} in the protos`);
    const owners = access.eventPublishers.get(type);
    if (owners && !owners.includes(user))
      throw new Error(
        `users.${user}.publishes: ${type} may only be published by ${owners.join(', ')} (its (warren.access.v1.event) option)`,
      );
  }
  for (const [group, patterns] of Object.entries(entry.subscribes)) {
    for (const pattern of patterns) {
      if (![...access.messages].some((type) => topicMatches(pattern, type)))
        warnings.push(`users.${user}.subscribes.${group}: ${pattern} matches no message in the protos`);
    }
  }
  const serves = entry.serves;
  const rpc = serves.length > 0 || calls.size > 0;
  const events = publishes.size > 0 || Object.keys(entry.subscribes).length > 0;
  const groups = Object.keys(entry.subscribes);
  const configure: string[] = [];
  const write: string[] = [];
  const read: string[] = [];
  if (rpc) {
    // protocol 2: requests go through the default exchange to rpc.<service>; who may call what is the servers'
    // access policy (the broker cannot tell queues apart on amq.default); nobody can bind a copy of a request
    write.push(literal('amq.default')); // requests; replies; re-queued copies; poison requests to rpc.<service>.dead
    const replyQueues = `${literal(REPLY_QUEUE_PREFIX)}[0-9a-f]+`;
    configure.push(replyQueues); // each connection's exclusive, auto-delete reply queue
    read.push(replyQueues); // consuming it (exclusive: no other connection can)
  }
  for (const service of serves) {
    configure.push(literal(`rpc.${service}`), literal(`rpc.${service}.dead`));
    read.push(literal(`rpc.${service}`)); // consume: the only way to see its requests
  }
  if (events) configure.push(literal(EVENTS_EXCHANGE)); // declared (not passively) by publishers and subscribers
  if (publishes.size > 0) write.push(literal(EVENTS_EXCHANGE));
  for (const group of groups) {
    const queue = literal(`events.${group}`);
    configure.push(queue, literal(`events.${group}.dead`), `${queue}\\.bcast\\..+`);
    write.push(queue, `${queue}\\.bcast\\..+`); // bindings
    read.push(queue, `${queue}\\.bcast\\..+`, literal(`events.${group}.dead`)); // consume; list and replay dead letters
  }
  if (groups.length > 0) {
    const delay = `${literal(`${EVENTS_EXCHANGE}.delay.`)}\\d+`;
    configure.push(delay); // retry delay exchanges and queues, shared by every group
    write.push(delay, literal('amq.default')); // retries; dead letters and replays; delay queues dead-letter to ""
    read.push(delay, literal(EVENTS_EXCHANGE)); // delay queue declare (DLX) and binding; binding to warren.events
  }
  if (rpc || events) {
    configure.push(literal(MESH_EXCHANGE)); // mesh reports (best effort): the reporter declares the fanout exchange
    write.push(literal(MESH_EXCHANGE));
  }
  if (entry.viewsMesh) {
    configure.push(literal(MESH_EXCHANGE), 'amq\\.gen-.*'); // its exclusive, server-named viewer queue
    write.push('amq\\.gen-.*'); // queue.bind needs write on the queue
    read.push(literal(MESH_EXCHANGE), 'amq\\.gen-.*'); // binding to warren.mesh; consuming its queue
  }
  const subscribed = [...new Set(Object.values(entry.subscribes).flat())];
  return {
    user: `${userPrefix}${user}`,
    principal: user,
    serves: [...serves],
    calls: [...calls].sort(),
    publishes: [...publishes].sort(),
    subscribes: entry.subscribes,
    configure: anchored(configure),
    write: anchored(write),
    read: anchored(read),
    topicWrite: anchored([...publishes].sort().map(literal)),
    topicRead: anchored(subscribed.map(literal)),
  };
}

/** `^(a|b)$` of the distinct alternatives; `^$` (nothing) for none. */
export function anchored(alternatives: readonly string[]): string {
  const distinct = [...new Set(alternatives)];
  return distinct.length === 0 ? '^$' : `^(${distinct.join('|')})$`;
}

/** A name as a regular expression matching exactly it. */
export function literal(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One `rabbitmqctl` invocation of a plan. */
export interface PlannedCommand {
  readonly args: readonly string[];
  /** The user whose password goes to rabbitmqctl's stdin (add_user, change_password). */
  readonly passwordFor?: string;
}

/**
 * The rabbitmqctl commands of a plan: `add_user` for `newUsers` (password on
 * stdin, never on the command line), then permissions and topic permissions
 * for every user, which replace whatever the user had on this vhost.
 */
export function planCommands(
  plan: PermissionsPlan,
  newUsers: ReadonlySet<string>,
  passwordResets: ReadonlySet<string> = new Set(),
): PlannedCommand[] {
  const commands: PlannedCommand[] = [];
  for (const user of plan.users) {
    if (newUsers.has(user.user)) commands.push({ args: ['add_user', user.user], passwordFor: user.user });
    else if (passwordResets.has(user.user))
      commands.push({ args: ['change_password', user.user], passwordFor: user.user });
    commands.push({ args: ['set_permissions', '-p', plan.vhost, user.user, user.configure, user.write, user.read] });
    commands.push({
      args: ['set_topic_permissions', '-p', plan.vhost, user.user, EVENTS_EXCHANGE, user.topicWrite, user.topicRead],
    });
  }
  return commands;
}

/** A command as a line of shell (single-quoted arguments where needed). */
export function shellLine(command: PlannedCommand): string {
  const quoted = command.args.map((arg) => (/^[A-Za-z0-9_./:-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`));
  return `rabbitmqctl ${quoted.join(' ')}${command.passwordFor === undefined ? '' : '   # password on stdin'}`;
}

function optionList(parsed: unknown, option: string, field: string): string[] | undefined {
  if (!Array.isArray(parsed)) return undefined;
  let found: string[] | undefined;
  for (const entry of parsed as Record<string, unknown>[]) {
    const value = (entry?.[option] as Record<string, unknown> | undefined)?.[field];
    if (value === undefined) continue;
    found ??= [];
    for (const item of Array.isArray(value) ? value : [value]) if (typeof item === 'string') found.push(item);
  }
  return found;
}
