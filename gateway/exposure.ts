import type protobuf from 'protobufjs';
import { ANY_CALLER, type Transport } from '../core/index.js';
import { type DynamicService } from '../core/tooling.js';

/**
 * The pattern that exposes every method declaring a `google.api.http` rule:
 * the public surface a contract author chose to give HTTP routes.
 */
export const HTTP_RULES = '@http';

/**
 * What the gateway exposes when told nothing: only methods with
 * `google.api.http` rules. Internal methods (payments `Charge`/`Refund`,
 * inventory `Reserve`, health checks) stay reachable over the broker only.
 */
export const DEFAULT_EXPOSE: readonly string[] = [HTTP_RULES];

/**
 * Which methods the gateway serves, from an allow-list of patterns:
 *
 * | pattern | exposes |
 * |---|---|
 * | `@http` | every method with a `google.api.http` rule |
 * | `pkg.Service/Method` | that method |
 * | `pkg.Service/*` | every method of that service |
 * | `pkg.*` | every method of every service whose name starts with `pkg.` |
 * | `*` | everything (development only) |
 *
 * An exposed method gets its REST routes and its `POST /rpc/...` route;
 * every other method has neither (404, the same answer as a path that does
 * not exist, so the gateway does not reveal which internal methods exist)
 * and is left out of the OpenAPI document.
 *
 * A method whose contract limits its callers
 * (`option (warren.access.v1.method) = {callers: ["orders"]}`) is exposed
 * only when the list has `*` or the gateway's own broker user, whatever the
 * patterns say: its servers would refuse the gateway anyway.
 */
export interface Exposure {
  /** True when the method (`pkg.Service/Method`) is served. */
  exposes(path: string, hasHttpRules: boolean): boolean;
  /** The services with only their exposed methods; services left with none are dropped. */
  filter(services: readonly DynamicService[]): DynamicService[];
}

const SERVICE = /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/;
const METHOD = /^[A-Za-z_]\w*$/;

/**
 * Compiles the allow-list. Throws at start-up on a malformed pattern, and
 * (when `services` is given) on a pattern that matches nothing: a typo must
 * not silently hide or expose a method.
 */
export function createExposure(
  patterns: readonly string[],
  services?: readonly DynamicService[],
  access?: MethodAccessCheck,
): Exposure {
  let all = false;
  let httpRules = false;
  const methods = new Set<string>();
  const wholeServices = new Set<string>();
  const prefixes: string[] = [];
  for (const raw of patterns) {
    const pattern = raw.trim();
    if (pattern === '') continue;
    if (pattern === '*') all = true;
    else if (pattern === HTTP_RULES) httpRules = true;
    else if (pattern.endsWith('.*') && SERVICE.test(pattern.slice(0, -2))) prefixes.push(pattern.slice(0, -1));
    else if (pattern.endsWith('/*') && SERVICE.test(pattern.slice(0, -2))) wholeServices.add(pattern.slice(0, -2));
    else {
      const slash = pattern.indexOf('/');
      if (slash < 0 || !SERVICE.test(pattern.slice(0, slash)) || !METHOD.test(pattern.slice(slash + 1))) {
        throw new TypeError(
          `expose pattern ${JSON.stringify(raw)} is not one of @http, *, pkg.*, pkg.Service/*, pkg.Service/Method`,
        );
      }
      methods.add(pattern);
    }
  }

  const exposes = (path: string, hasHttpRules: boolean): boolean => {
    if (access && !access(path)) return false;
    if (all || (httpRules && hasHttpRules) || methods.has(path)) return true;
    const service = path.slice(0, path.indexOf('/'));
    return wholeServices.has(service) || prefixes.some((prefix) => service.startsWith(prefix));
  };

  if (services) {
    const paths = services.flatMap((service) =>
      Object.values(service.methods).map((method) => ({
        service: service.fullName,
        path: `${service.fullName}/${method.name}`,
      })),
    );
    for (const path of methods)
      if (!paths.some((p) => p.path === path)) throw new TypeError(`expose pattern ${path} names no loaded method`);
    for (const name of wholeServices)
      if (!paths.some((p) => p.service === name))
        throw new TypeError(`expose pattern ${name}/* names no loaded service`);
    for (const prefix of prefixes)
      if (!paths.some((p) => p.service.startsWith(prefix)))
        throw new TypeError(`expose pattern ${prefix}* matches no loaded service`);
  }

  return {
    exposes,
    filter(list) {
      const kept: DynamicService[] = [];
      for (const service of list) {
        const entries = Object.entries(service.methods).filter(([, method]) =>
          exposes(`${service.fullName}/${method.name}`, method.httpRules.length > 0),
        );
        if (entries.length > 0) kept.push({ ...service, methods: Object.fromEntries(entries) });
      }
      return kept;
    },
  };
}

/** Whether the contract lets the gateway call a method (`pkg.Service/Method`). */
export type MethodAccessCheck = (path: string) => boolean;

/** The protobufjs key of the access option in `parsedOptions`. */
const ACCESS_OPTION = '(warren.access.v1.method)';

/**
 * Reads `warren.access.v1.method` options from the loaded contracts (from
 * protobufjs' parsed options: core's `methodCallers` reads the generated
 * definitions, which the gateway does not have): a method
 * with a `callers` list is callable by the gateway only when the list holds
 * `*` or `brokerUser`. Methods without the option are callable.
 */
export function contractAccess(root: protobuf.Root, brokerUser: string): MethodAccessCheck {
  return (path) => {
    const slash = path.indexOf('/');
    let method: protobuf.Method | undefined;
    try {
      method = root.lookupService(path.slice(0, slash)).methods[path.slice(slash + 1)];
    } catch {
      return true;
    }
    const callers = callersOf(method?.parsedOptions as Record<string, unknown>[] | undefined);
    return callers === undefined || callers.includes(ANY_CALLER) || callers.includes(brokerUser);
  };
}

function callersOf(parsedOptions: readonly Record<string, unknown>[] | undefined): string[] | undefined {
  let callers: string[] | undefined;
  for (const option of parsedOptions ?? []) {
    if (!Object.hasOwn(option, ACCESS_OPTION)) continue;
    const value = (option[ACCESS_OPTION] as { callers?: unknown } | undefined)?.callers;
    callers ??= [];
    if (typeof value === 'string') callers.push(value);
    else if (Array.isArray(value)) callers.push(...value.filter((entry): entry is string => typeof entry === 'string'));
  }
  return callers;
}

/** The broker user in a transport's (redacted) URL, else `guest`: whom the contracts' access options see calling. */
export function brokerUserOf(transport: Transport): string {
  const url = (transport as { url?: unknown }).url;
  if (typeof url !== 'string') return 'guest';
  try {
    return decodeURIComponent(new URL(url).username) || 'guest';
  } catch {
    return 'guest';
  }
}
