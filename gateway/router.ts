import { describeService } from '../core/protocol/index.js';
import { type DynamicMethod, type DynamicService } from '../core/tooling.js';
import { type Logger, type MethodInfo } from '../core/index.js';
import { matchPathTemplate, parsePathTemplate } from './path-template.js';
import { compileBinding, type CompiledBinding } from './request-mapping.js';

/** The RPC a route leads to. */
export interface MethodTarget {
  readonly service: DynamicService;
  readonly method: DynamicMethod;
  readonly info: MethodInfo;
}

/** A route declared with `google.api.http`. */
export interface RestRoute {
  readonly kind: 'rest';
  /** Metrics and log label: `GET /v1/things/{id}`. */
  readonly label: string;
  readonly httpMethod: string;
  readonly binding: CompiledBinding;
  readonly target: MethodTarget;
}

/** The `POST /rpc/<package.Service>/<Method>` route of a method. */
export interface RpcRoute {
  readonly kind: 'rpc';
  readonly label: string;
  readonly target: MethodTarget;
}

/** What a request matched. */
export type RouteMatch =
  | { readonly route: RestRoute; readonly pathValues: ReadonlyMap<string, string> }
  | { readonly route: RpcRoute; readonly pathValues?: undefined };

/** The path prefix of the generic routes. */
export const RPC_PREFIX = '/rpc/';

/** Maps HTTP method + path to a route. */
export interface Router {
  /**
   * The route for a request, `{ allowed }` when the path exists under other
   * methods (405), or `undefined` (404). Throws `PathDecodeError` on a bad
   * percent-escape in a matched variable.
   */
  match(httpMethod: string, rawPath: string): RouteMatch | { readonly allowed: readonly string[] } | undefined;
  readonly restRoutes: readonly RestRoute[];
  readonly rpcRoutes: readonly RpcRoute[];
}

/**
 * Builds the routing table of every unary method of `services`. REST
 * templates are tried most specific first (more literal segments, then a
 * custom verb, then no `**`), declaration order breaking ties. Streaming
 * methods are skipped (logged); a template that names a missing field throws.
 */
export function createRouter(services: readonly DynamicService[], logger: Logger): Router {
  const restRoutes: RestRoute[] = [];
  const rpcRoutes: RpcRoute[] = [];
  const rpcByPath = new Map<string, RpcRoute>();
  const seen = new Set<string>();
  for (const service of services) {
    for (const method of Object.values(service.methods)) {
      if (method.requestStream || method.responseStream) {
        logger.warn(
          { method: `${service.fullName}/${method.name}` },
          'streaming method skipped: the gateway is unary only',
        );
        continue;
      }
    }
    const unary: DynamicService = {
      ...service,
      methods: Object.fromEntries(
        Object.entries(service.methods).filter(([, m]) => !m.requestStream && !m.responseStream),
      ),
    };
    for (const info of describeService(unary)) {
      const method = unary.methods[info.localName]!;
      const target: MethodTarget = { service, method, info };
      const rpc: RpcRoute = { kind: 'rpc', label: `POST ${RPC_PREFIX}${info.path}`, target };
      rpcRoutes.push(rpc);
      rpcByPath.set(info.path, rpc);
      for (const rule of method.httpRules) {
        const key = `${rule.method} ${rule.path}`;
        if (seen.has(key)) {
          logger.warn(
            { route: key, method: info.path },
            'duplicate HTTP route ignored: an earlier method already binds it',
          );
          continue;
        }
        seen.add(key);
        const template = parsePathTemplateFor(info.path, rule.path);
        restRoutes.push({
          kind: 'rest',
          label: key,
          httpMethod: rule.method,
          binding: compileBinding(method, info.path, rule, template),
          target,
        });
      }
    }
  }
  const byMethod = new Map<string, RestRoute[]>();
  for (const route of restRoutes) {
    const list = byMethod.get(route.httpMethod) ?? [];
    list.push(route);
    byMethod.set(route.httpMethod, list);
  }
  for (const list of byMethod.values())
    list.sort((a, b) => b.binding.template.specificity - a.binding.template.specificity);

  const matchRest = (httpMethod: string, rawPath: string): RouteMatch | undefined => {
    for (const route of byMethod.get(httpMethod) ?? []) {
      const pathValues = matchPathTemplate(route.binding.template, rawPath);
      if (pathValues) return { route, pathValues };
    }
    return undefined;
  };

  return {
    restRoutes,
    rpcRoutes,
    match(httpMethod, rawPath) {
      if (rawPath.startsWith(RPC_PREFIX)) {
        const rpc = rpcByPath.get(rawPath.slice(RPC_PREFIX.length));
        if (rpc) return httpMethod === 'POST' ? { route: rpc } : { allowed: ['POST'] };
      }
      const found = matchRest(httpMethod, rawPath);
      if (found) return found;
      const allowed = [...byMethod.keys()].filter(
        (other) => other !== httpMethod && matchRest(other, rawPath) !== undefined,
      );
      return allowed.length > 0 ? { allowed } : undefined;
    },
  };
}

function parsePathTemplateFor(where: string, path: string): ReturnType<typeof parsePathTemplate> {
  try {
    return parsePathTemplate(path);
  } catch (error) {
    throw new TypeError(`${where}: ${(error as Error).message}`, { cause: error });
  }
}
