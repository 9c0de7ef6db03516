import { Code } from '../protocol/code.js';
import { describeService, type ServiceDefinition } from '../protocol/definition.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { RpcError } from '../protocol/rpc-error.js';
import { ANY_CALLER, methodCallers } from './method-access.js';

/** `enforce` refuses what the rules do not allow; `audit` only logs it and lets the call run. */
export type AccessMode = 'enforce' | 'audit';

/** Who may call a method: everyone, or the listed broker users (`*`: any identified caller). */
export type Callers = 'open' | readonly string[];

/** Options of {@link createAccessPolicy}. */
export interface AccessPolicyOptions {
  /** Default `enforce`. */
  readonly mode?: AccessMode;
  /**
   * Rules by method (`pkg.Service/Method`) or by service (`pkg.Service`, every
   * method): the broker users allowed to call, `*` for any caller with an
   * identity. A method rule beats a service rule, which beats the method's
   * proto option `(warren.access.v1.method)`. Default none.
   */
  readonly rules?: Readonly<Record<string, readonly string[]>>;
  /**
   * Callers of methods with neither a rule nor a proto option: `open`
   * (default: anyone, identity or not), or a list (`['*']`: any identified
   * caller; `[]`: nobody — every method must then be granted explicitly).
   */
  readonly unlisted?: Callers;
  /**
   * Prefix of the broker user names: with `shop-`, the broker user
   * `shop-orders` is the caller `orders` of the rules and proto options, so
   * one broker (whose users are broker-wide) can hold several environments.
   * A user without the prefix matches only `*`. Default none.
   */
  readonly userPrefix?: string;
  /** Where refusals (and, in audit mode, would-be refusals) are logged. Default: the process logger. */
  readonly logger?: Logger;
}

/**
 * Per-method access control of a server (`createServer({ access })`): the
 * dispatcher asks it about every request after finding the method and before
 * decoding the body, so a refused caller costs no decoding and never reaches
 * an interceptor or the handler. Health checks are answered before it and
 * stay open. Identities are broker users (AMQP `user_id`), see
 * core/amqp/identity.ts.
 */
export interface AccessPolicy {
  readonly mode: AccessMode;
  /**
   * Compiles the rules of a service's methods; `server.add` calls it. Throws
   * INVALID_ARGUMENT when a rule names a method the service does not have
   * (a typo would otherwise leave the method open).
   */
  register(definition: ServiceDefinition): void;
  /** Who may call a registered method (`pkg.Service/Method`); `unlisted` for others. */
  callersOf(method: string): Callers;
  /**
   * The refusal of a call to `method` by `userId`: UNAUTHENTICATED when the
   * method is restricted and the request proves no identity,
   * PERMISSION_DENIED when that user is not allowed; `undefined` to let it
   * run (always, in audit mode, after logging).
   */
  check(method: string, userId: string | undefined): RpcError | undefined;
}

/** A compiled rule: `undefined` = open. */
type Rule =
  | { readonly anyIdentified: boolean; readonly users: ReadonlySet<string>; readonly listed: readonly string[] }
  | undefined;

const SERVICE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const METHOD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Creates a per-method access policy for `createServer({ access })`.
 *
 * ```ts
 * // proto: rpc Charge(...) { option (warren.access.v1.method) = {callers: ["orders"]}; }
 * const server = createServer({ transport, access: createAccessPolicy({ rules: { 'shop.payments.v1.PaymentService/ListPayments': ['gateway', 'ops'] } }) });
 * ```
 *
 * Throws INVALID_ARGUMENT for a malformed rule.
 */
export function createAccessPolicy(options: AccessPolicyOptions = {}): AccessPolicy {
  const mode = options.mode ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'audit')
    throw new RpcError(Code.INVALID_ARGUMENT, `access mode must be "enforce" or "audit", got ${JSON.stringify(mode)}`);
  const rules = new Map<string, readonly string[]>();
  for (const [key, callers] of Object.entries(options.rules ?? {})) {
    const [service = '', method, extra] = key.split('/');
    if (!SERVICE_NAME.test(service) || extra !== undefined || (method !== undefined && !METHOD_NAME.test(method))) {
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `access rule ${JSON.stringify(key)} must name a service (pkg.Service) or a method (pkg.Service/Method)`,
      );
    }
    rules.set(key, checkCallers(callers, `access rule ${key}`));
  }
  const unlisted = compile(
    options.unlisted === undefined || options.unlisted === 'open' ? 'open' : checkCallers(options.unlisted, 'unlisted'),
  );
  const logger = (options.logger ?? defaultLogger()).child({ facet: 'access' });
  const compiled = new Map<string, Rule>();
  const principalOf = userPrincipal(options.userPrefix ?? '');

  const ruleOf = (method: string): Rule => (compiled.has(method) ? compiled.get(method) : unlisted);

  return {
    mode,
    register(definition) {
      const methods = describeService(definition);
      const names = new Set(methods.map((info) => info.name));
      for (const key of rules.keys()) {
        const [service, method] = key.split('/');
        if (service === definition.fullName && method !== undefined && !names.has(method)) {
          throw new RpcError(
            Code.INVALID_ARGUMENT,
            `access rule ${JSON.stringify(key)} names no method of ${definition.fullName} (methods: ${[...names].join(', ')})`,
          );
        }
      }
      for (const info of methods) {
        const declared =
          rules.get(info.path) ?? rules.get(info.service) ?? methodCallers(definition.methods[info.localName]!);
        compiled.set(info.path, declared === undefined ? unlisted : compile(declared));
      }
    },
    callersOf(method) {
      const rule = ruleOf(method);
      return rule === undefined ? 'open' : rule.listed;
    },
    check(method, userId) {
      const rule = ruleOf(method);
      if (rule === undefined) return undefined;
      let refusal: RpcError | undefined;
      if (userId === undefined) {
        refusal = new RpcError(
          Code.UNAUTHENTICATED,
          `${method} needs a caller identity: the request carries no broker-validated user_id`,
        );
      } else if (!rule.anyIdentified && !rule.users.has(principalOf(userId) ?? '')) {
        refusal = new RpcError(Code.PERMISSION_DENIED, `broker user ${JSON.stringify(userId)} may not call ${method}`);
      }
      if (refusal === undefined) return undefined;
      const fields = { method, userId, allowed: rule.listed, mode };
      if (mode === 'audit') {
        logger.warn(fields, 'access audit: this call would be refused; it runs because the policy only audits');
        return undefined;
      }
      logger.warn(fields, 'call refused by the access policy');
      return refusal;
    },
  };
}

/** Broker user → the name rules use: the user without `prefix`, or `undefined` when it lacks the prefix. */
export function userPrincipal(prefix: string): (userId: string) => string | undefined {
  if (prefix === '') return (userId) => userId;
  return (userId) =>
    userId.startsWith(prefix) && userId.length > prefix.length ? userId.slice(prefix.length) : undefined;
}

function compile(callers: Callers): Rule {
  if (callers === 'open') return undefined;
  return {
    anyIdentified: callers.includes(ANY_CALLER),
    users: new Set(callers.filter((caller) => caller !== ANY_CALLER)),
    listed: [...callers],
  };
}

function checkCallers(callers: unknown, what: string): readonly string[] {
  if (!Array.isArray(callers) || !callers.every((caller) => typeof caller === 'string' && caller !== '')) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${what} must be a list of broker user names (or "*")`);
  }
  return callers as string[];
}
